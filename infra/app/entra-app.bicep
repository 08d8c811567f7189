// The Microsoft Entra ID app registration people sign in with (App Service authentication on the function app), its
// app roles, and the trust that lets the sign-in identity stand in for a client secret. Created with the Microsoft
// Graph Bicep extension (bicepconfig.json), so `azd provision` creates and updates it like any other resource; the
// deploying user needs the right to register applications in the tenant (the default for members).
extension microsoftGraphV1

@description('Stable key of the registration in the tenant (Graph `uniqueName`): one per azd environment.')
param uniqueName string

@description('Name people see on the consent and sign-in pages.')
param displayName string

@description('https://<function app host>: the sign-in callback is <appUri>/.auth/login/aad/callback.')
param appUri string

@description('Principal (object) id of the user-assigned identity App Service authentication uses instead of a client secret.')
param signInIdentityPrincipalId string

@description('Object id of the user who runs azd (AZURE_PRINCIPAL_ID); gets the Reviewer role. Empty: nobody is assigned.')
param reviewerPrincipalId string = ''

@description('Kind of principal reviewerPrincipalId names: only a User is assigned an app role here.')
param reviewerPrincipalType string = 'User'

// Role ids are fixed per registration: a redeploy keeps every assignment.
var readerRoleId = guid(uniqueName, 'app-role', 'Reader')
var reviewerRoleId = guid(uniqueName, 'app-role', 'Reviewer')

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  // People of this tenant only.
  signInAudience: 'AzureADMyOrg'
  web: {
    redirectUris: [
      '${appUri}/.auth/login/aad/callback'
    ]
    // App Service authentication signs in with the OpenID Connect hybrid flow, which returns an ID token.
    implicitGrantSettings: {
      enableIdTokenIssuance: true
      enableAccessTokenIssuance: false
    }
  }
  // The values shared/auth/roles.ts checks; a reviewer also reads.
  appRoles: [
    {
      id: readerRoleId
      value: 'Reader'
      displayName: 'Reader'
      description: 'Sees images, results, previews, profiles and health details.'
      allowedMemberTypes: [
        'User'
      ]
      isEnabled: true
    }
    {
      id: reviewerRoleId
      value: 'Reviewer'
      displayName: 'Reviewer'
      description: 'Everything a Reader does, and corrects labels and uploads images.'
      allowedMemberTypes: [
        'User'
      ]
      isEnabled: true
    }
  ]
  // Sign-in only: Microsoft Graph User.Read (delegated), what the openid/profile sign-in needs.
  requiredResourceAccess: [
    {
      resourceAppId: '00000003-0000-0000-c000-000000000000'
      resourceAccess: [
        {
          id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'
          type: 'Scope'
        }
      ]
    }
  ]
}

// No client secret: App Service authentication presents a token of this identity as the client assertion
// (clientSecretSettingName OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID in auth.bicep).
resource signInCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${app.uniqueName}/app-service-sign-in'
  description: 'The function app\'s sign-in identity stands in for a client secret.'
  issuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
  subject: signInIdentityPrincipalId
  audiences: [
    'api://AzureADTokenExchange'
  ]
}

// Assignment is not required to sign in, on purpose: a user without a role signs in and the app answers 403 saying
// which role to ask for, instead of an opaque Entra error page.
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
  appRoleAssignmentRequired: false
}

resource reviewerAssignment 'Microsoft.Graph/appRoleAssignedTo@v1.0' = if (!empty(reviewerPrincipalId) && reviewerPrincipalType == 'User') {
  appRoleId: reviewerRoleId
  principalId: reviewerPrincipalId
  resourceId: servicePrincipal.id
}

output clientId string = app.appId
output readerRoleId string = readerRoleId
output reviewerRoleId string = reviewerRoleId
