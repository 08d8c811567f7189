// App Service authentication (Easy Auth v2) on the function app, with Microsoft Entra ID. Unauthenticated requests are
// let through on purpose: machines call the /api routes with function keys, which only the Functions host checks,
// after this layer; a redirect here would turn every keyed call into a sign-in page. The app enforces the rest
// (shared/auth): the page sends a browser that is not signed in to /.auth/login/aad, the app/api routes need a
// principal with the Reader or Reviewer app role, the key routes need the key.

@description('Name of the function app.')
param functionAppName string

@description('Application (client) id of the Entra app registration (entra-app.bicep).')
param clientId string

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      // Keys must reach the Functions host: see the header comment.
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
          clientId: clientId
          // Not a secret: this names the setting that holds the sign-in identity's client id (api.bicep), whose
          // token is the client assertion (federated identity credential in entra-app.bicep).
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
        validation: {
          allowedAudiences: [
            clientId
          ]
        }
      }
    }
    login: {
      // The app reads only the principal header; no provider tokens are kept.
      tokenStore: {
        enabled: false
      }
      preserveUrlFragmentsForLogins: true
    }
  }
}
