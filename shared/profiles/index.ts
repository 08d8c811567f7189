export { BUILT_IN_PROFILE_DATA, loadProfiles, parseProfile, ProfileRegistry } from './ProfileRegistry';
export type { AttributeField, AttributesProfile, ImageDetail, Label, MultiLabelProfile, Profile, ProfileKind, SingleLabelProfile } from './profileSchema';
export { profileSchema } from './profileSchema';
export type { ProfileSource, ResolvedProfile } from './resolveProfile';
export { requireProfile, resolveProfile } from './resolveProfile';
