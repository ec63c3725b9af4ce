// Test-only module whose default export is not a workload.
export default 42;
