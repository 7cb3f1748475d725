/** In-memory DynamoDB and SQS emulators with the pool's tables, for integration tests. */
import { startEmulators, type Emulators } from "../../runtime/local/emulators";
import { createAwsClients, destroyAwsClients, type AwsClients } from "../../runtime/aws/clients";
import { ensureTables } from "../../runtime/aws/tables";
import { tableNames, type TableNames } from "../../runtime/core/naming";

export interface EmulatedAws {
  emulators: Emulators;
  clients: AwsClients;
  tables: TableNames;
  close(): Promise<void>;
}

let counter = 0;

export async function startEmulatedAws(): Promise<EmulatedAws> {
  const emulators = await startEmulators();
  const clients = createAwsClients({ dynamodbEndpoint: emulators.dynamodbEndpoint, sqsEndpoint: emulators.sqsEndpoint });
  const tables = tableNames(`it${process.pid}x${counter++}`);
  await ensureTables(clients, tables);
  return {
    emulators,
    clients,
    tables,
    close: async () => {
      destroyAwsClients(clients);
      await emulators.close();
    },
  };
}
