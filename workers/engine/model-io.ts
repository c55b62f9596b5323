import type { ModelManifest, ModelRole } from '../models/manifest-types';
import type { Session } from '../runtime/backend';
import { EngineError } from './errors';

/**
 * What the engine feeds each role, by the input names the role conventions document
 * (workers/models/manifest-types.ts). The manifest lists a model's inputs and outputs; this table says what
 * each listed name means, so nothing is guessed at run time: an unknown name is refused when the set loads.
 */
export type Slot = 'sample' | 'timestep' | 'photo' | 'input' | 'cotangent' | 'x0';
const ROLE_INPUTS: Partial<Record<ModelRole, Record<string, Slot>>> = {
  prior: { x: 'sample', t: 'timestep' },
  // a restorer's x_t (or x) is the sample; latent sets feed it the decoded x0_hat
  restorer: { x_t: 'sample', x: 'sample', y: 'photo', t: 'timestep' },
  'identity-vjp': { input: 'input', cotangent: 'cotangent' },
  'decoder-vjp': { input: 'input', cotangent: 'cotangent' },
  perceptual: { x0: 'x0', y: 'photo' },
  discriminator: { x0: 'x0', y: 'photo' },
};
/** Roles with one input, whatever its name (the identity network's image, the decoder's latent, the encoder's image). */
const SINGLE_INPUT: ModelRole[] = ['identity', 'decoder', 'encoder'];
/** The output the engine reads when a role documents one by name; otherwise the manifest's first output. */
const ROLE_OUTPUT: Partial<Record<ModelRole, string>> = {
  'identity-vjp': 'grad_input',
  'decoder-vjp': 'grad_input',
  perceptual: 'grad',
  discriminator: 'grad',
};

/** One role's inputs (name -> what it carries) and the output the engine reads. */
export interface RoleIo {
  slotOf: Record<string, Slot>;
  output: string;
}

export type ModelIo = Partial<Record<ModelRole, RoleIo>>;

/**
 * Each loaded role's input and output names, from its manifest entry, checked against the ONNX session's own
 * names. Throws invalid-model with the role and the names when they disagree or a name has no documented meaning.
 */
export function resolveModelIo(manifest: ModelManifest, sessions: Partial<Record<ModelRole, Session>>): ModelIo {
  const io: ModelIo = {};
  for (const [role, session] of Object.entries(sessions) as [ModelRole, Session][]) {
    const entry = manifest.models.find((e) => e.role === role);
    const where = `Model set "${manifest.name}", role ${role}`;
    if (!entry) throw new EngineError('invalid-model', `${where}: the manifest has no entry for it.`);
    const names = entry.inputs.map((t) => t.name);
    const got = [...session.inputNames];
    if (names.length !== got.length || names.some((n) => !got.includes(n))) {
      throw new EngineError('invalid-model', `${where}: the manifest lists inputs ${list(names)} but the ONNX file has ${list(got)}.`);
    }
    const slotOf: RoleIo['slotOf'] = {};
    if (SINGLE_INPUT.includes(role)) {
      if (names.length !== 1) throw new EngineError('invalid-model', `${where}: expected one input, the manifest lists ${list(names)}.`);
      slotOf[names[0] as string] = 'input';
    } else {
      const known = ROLE_INPUTS[role] ?? {};
      for (const n of names) {
        const slot = known[n];
        if (!slot) {
          throw new EngineError(
            'invalid-model',
            `${where}: input "${n}" is not one of ${list(Object.keys(known))} (workers/models/manifest-types.ts).`,
          );
        }
        slotOf[n] = slot;
      }
    }
    const outs = entry.outputs.map((t) => t.name);
    const output = ROLE_OUTPUT[role] ?? outs[0];
    if (!output || !outs.includes(output) || !session.outputNames.includes(output)) {
      throw new EngineError(
        'invalid-model',
        `${where}: expected output ${output ? `"${output}"` : 'one output'}; the manifest lists ${list(outs)}, the ONNX file has ${list([...session.outputNames])}.`,
      );
    }
    io[role] = { slotOf, output };
  }
  return io;
}

function list(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.map((n) => `"${n}"`).join(', ');
}
