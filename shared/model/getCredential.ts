/** The one Azure credential of this worker, built on first use so importing the module costs nothing. */
import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential } from '@azure/identity';

let credential: TokenCredential | undefined;

/**
 * DefaultAzureCredential: managed identity in Azure (a user-assigned identity is picked by AZURE_CLIENT_ID),
 * Azure CLI / azd / VS Code sign-in on a developer machine. Built once per worker so its token cache is shared.
 */
export function getCredential(): TokenCredential {
  credential ??= new DefaultAzureCredential();
  return credential;
}
