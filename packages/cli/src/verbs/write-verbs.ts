// The verbs that change things: apply, create, delete, scale, rollout, cordon, uncordon, drain, label, annotate.
import { apply } from './apply.js';
import { create } from './create.js';
import { deleteVerb } from './delete.js';
import { annotate, label } from './metadata-verbs.js';
import { cordon, drain, uncordon } from './node-verbs.js';
import { rollout } from './rollout.js';
import { scale } from './scale.js';
import type { Verb } from './session.js';

export const writeVerbs: Readonly<Record<string, Verb>> = { apply, create, delete: deleteVerb, scale, rollout, cordon, uncordon, drain, label, annotate };
