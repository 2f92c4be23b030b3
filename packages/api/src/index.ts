// @raftplane/api: Kubernetes' object model, with no I/O: types, validation, defaults, selectors
// and patches. Each module's exports are listed here.
export {};
