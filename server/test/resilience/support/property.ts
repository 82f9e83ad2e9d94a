import fc from 'fast-check';

/**
 * fc.assert, with the report cut short: a counterexample can be a 150 KB body, and a page of braces hides the
 * reason. The seed and path in the report replay the exact failure (FUZZ_SEED, or `seed`/`path` here).
 */
export async function assertProperty<Ts extends [unknown, ...unknown[]]>(
  property: fc.IAsyncProperty<Ts>,
  params: fc.Parameters<Ts>,
): Promise<void> {
  const out = await fc.check(property, { ...params, endOnFailure: true });
  if (!out.failed) return;
  const cut = (s: string) => (s.length > 1500 ? `${s.slice(0, 1500)}… (${s.length} chars)` : s);
  const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(
    `Property failed after ${out.numRuns} runs (seed ${out.seed}, path "${out.counterexamplePath}")\n` +
      `Counterexample: ${cut(fc.stringify(out.counterexample))}\nCause: ${cut(cause)}`,
  );
}
