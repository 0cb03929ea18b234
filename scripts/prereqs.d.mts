// Types for scripts/prereqs.mjs (plain JavaScript so that it runs before anything is built).
export interface Need {
  readonly command: string;
  readonly pkg: string;
  readonly env?: string;
  readonly why: string;
  readonly linuxOnly?: boolean;
}
export type Plan =
  { action: 'ok' } | { action: 'install'; pkgs: string[]; commands: string[][]; message: string } | { action: 'stop'; message: string };
export const NODE_MIN: readonly [number, number];
export const NEEDS: readonly Need[];
export function searchDirs(env?: NodeJS.ProcessEnv): string[];
export function locate(command: string, options?: { env?: NodeJS.ProcessEnv; envVar?: string }): string | null;
export function missingNeeds(options?: { env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform }): Need[];
export function plan(options: { missing: readonly Need[]; root: boolean; sudo: boolean; apt: boolean }): Plan;
export function nodeProblem(version?: string): string | null;
