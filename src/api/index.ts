// The API layer's public surface, for the daemon and the CLI.
//
//   const pki = await createLabPki(lab);                         // pki.ts
//   const store = new ObjectStore();                              // store.ts
//   store.addAdmissionHook('services', allocateClusterIP);        // in-process controllers
//   const api = await startApiServer({store, pki, version, log}); // server.ts
//
// Resources are named by GroupResource strings ("pods", "deployments.apps");
// errors are ApiError with the apiserver's code, reason and message.

export { createLabPki, issueClientCert, SERVER_SANS, type KeyPairPem, type LabPki } from './pki.js';
export {
  ObjectStore,
  type AdmissionHook,
  type AdmissionRequest,
  type DeleteOptions,
  type DeleteResult,
  type ListOptions,
  type ListResult,
  type ObjectStoreOptions,
  type PropagationPolicy,
  type UpdateOptions,
  type WatchHandle,
  type WatchListener,
  type WatchOptions,
  type WriteOptions,
} from './store.js';
export {
  startApiServer,
  type ApiServer,
  type ApiServerOptions,
  type KubeVersionInfo,
  type SubresourceHandler,
  type SubresourceRequest,
  type UserInfo,
} from './server.js';
export { BUILTIN_RESOURCES, ResourceRegistry, defineResource, resourceKey, type ResourceType, type SubresourceType } from './resources.js';
export { ApiError, isApiError, alreadyExists, badRequest, conflict, forbidden, invalid, notFound, type FieldError } from './errors.js';
export { LabelSelector, FieldSelector, labelSelectorFromObject, parseFieldSelector, parseLabelSelector } from './selectors.js';
export { humanDuration } from './duration.js';
export type { KubeObject, ObjectMeta, OwnerReference, Status, WatchEvent, WatchEventType } from './types.js';
