// Types for stale-build.mjs, so the unit tests can check the very function start.sh runs.
export declare const SOURCES: readonly string[];
export declare const OUTPUTS: readonly string[];
export declare function newestFile(paths: readonly string[]): { path: string; mtimeMs: number } | undefined;
export declare function staleReason(
  root: string,
  sources?: readonly string[],
  outputs?: readonly string[],
): string | undefined;
export declare function isStale(root: string, sources?: readonly string[], outputs?: readonly string[]): boolean;
