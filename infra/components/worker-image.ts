import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import { REPO_ROOT } from "../lib/bundle";
import { ecrRepositoryArnFromImage } from "../lib/policies";
import { withDefaults } from "../lib/defaults";

export const WORKER_DOCKERFILE = "docker/worker.Dockerfile";

export interface WorkerImageArgs {
  /**
   * A prebuilt worker image (e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/agentpool-worker@sha256:…`).
   * When set, nothing is built and no repository is created.
   */
  readonly image?: pulumi.Input<string>;
  /** ECR repository for the built image. */
  readonly repositoryName: string;
  /** Build context; defaults to the agentpool repository root. */
  readonly context?: string;
  /** Dockerfile, relative to the context; defaults to docker/worker.Dockerfile. */
  readonly dockerfile?: string;
  /** Fargate tasks run on ARM (Graviton) by default: cheaper per vCPU for an I/O-bound worker. */
  readonly platform?: "linux/arm64" | "linux/amd64";
}

/**
 * The agent worker's image: built from the Dockerfile and pushed to an ECR repository of its own
 * by `pulumi up` (BuildKit through @pulumi/docker-build), or a prebuilt image used as given.
 */
export class WorkerImage extends pulumi.ComponentResource {
  /** What tasks run: the pushed image pinned by digest, or the prebuilt reference. */
  readonly imageRef: pulumi.Output<string>;
  readonly repository?: aws.ecr.Repository;
  readonly image?: dockerBuild.Image;
  /** The ECR repository tasks pull from (for the execution role), if the image lives in ECR. */
  readonly repositoryArn: pulumi.Output<string | undefined>;

  constructor(name: string, args: WorkerImageArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("agentpool:index:WorkerImage", name, {}, opts);
    const { context, dockerfile, platform } = withDefaults({ context: REPO_ROOT, dockerfile: WORKER_DOCKERFILE, platform: "linux/arm64" as "linux/arm64" | "linux/amd64" }, args);

    if (args.image !== undefined) {
      this.imageRef = pulumi.output(args.image);
      this.repositoryArn = this.imageRef.apply((ref) => ecrRepositoryArnFromImage(ref));
    } else {
      this.repository = new aws.ecr.Repository(
        name,
        {
          name: args.repositoryName,
          imageTagMutability: "MUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          forceDelete: false,
        },
        { parent: this },
      );
      new aws.ecr.LifecyclePolicy(
        name,
        {
          repository: this.repository.name,
          policy: JSON.stringify({
            rules: [{ rulePriority: 1, description: "keep the last 20 images", selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 20 }, action: { type: "expire" } }],
          }),
        },
        { parent: this },
      );
      const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, { parent: this });
      this.image = new dockerBuild.Image(
        name,
        {
          context: { location: context },
          dockerfile: { location: path.join(context, dockerfile) },
          platforms: [platform === "linux/arm64" ? dockerBuild.Platform.Linux_arm64 : dockerBuild.Platform.Linux_amd64],
          push: true,
          tags: [pulumi.interpolate`${this.repository.repositoryUrl}:latest`],
          registries: [{ address: this.repository.repositoryUrl, username: auth.userName, password: auth.password }],
        },
        { parent: this },
      );
      // `ref` is `<repository>:latest@sha256:<digest>`: a new build changes the task definition.
      this.imageRef = this.image.ref;
      this.repositoryArn = this.repository.arn;
    }

    this.registerOutputs({ imageRef: this.imageRef, repositoryArn: this.repositoryArn });
  }
}
