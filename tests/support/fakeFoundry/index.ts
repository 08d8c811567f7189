/** Public face of the fake Azure AI Foundry model inference endpoint used by integration tests. */
export type { FakeFoundry, FakeFoundryOptions, FoundryAnswerContext, FoundryAnswerRule, FoundryFault, FoundryRecordedRequest } from './fakeFoundryServer';
export { FAKE_FOUNDRY_IMAGE_TOKENS, startFakeFoundry } from './fakeFoundryServer';
export { FOUNDRY_API_VERSIONS, FOUNDRY_REQUEST_PROPERTIES, PHI_4_MULTIMODAL } from './foundryContract';
