// Reads Prometheus text format 0.0.4 (what /metrics answers): samples as {name, labels, value}.
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3])) !== null) {
        labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
      }
    }
    samples.push({name: m[1], labels, value: Number(m[4])});
  }
  return samples;
}

// otpd_verify_total by result.
export function verifyCounts(samples) {
  const out = {};
  for (const s of samples) {
    if (s.name === 'otpd_verify_total') out[s.labels.result || ''] = s.value;
  }
  return out;
}

// The cumulative buckets of a histogram, sorted by bound: [{le, count}].
export function histogram(samples, name) {
  const buckets = samples.filter((s) => s.name === `${name}_bucket`)
    .map((s) => ({le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value}))
    .sort((a, b) => a.le - b.le);
  return buckets;
}

// The q-quantile (0..1) of the observations between two snapshots of the same cumulative
// buckets, interpolated linearly inside the bucket, as Prometheus's histogram_quantile does.
// Null when nothing was observed.
export function quantile(q, now, before) {
  const delta = now.map((b, i) => ({le: b.le, count: b.count - (before ? before[i].count : 0)}));
  const total = delta.length ? delta[delta.length - 1].count : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of delta) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lower;
      const inBucket = b.count - below;
      return inBucket > 0 ? lower + (b.le - lower) * ((rank - below) / inBucket) : b.le;
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

// otpd_verify_total's result labels (service/signin/sign_in.cc, OutcomeReason) in words; a label this
// version does not know is shown with its underscores as spaces.
const RESULT_WORDS = {
  accepted: 'Accepted',
  ok: 'Accepted',
  bad_code: 'Wrong code',
  replayed: 'Code already used',
  locked: 'Locked out',
  drift: 'Clock drift',
  not_activated: 'Token not activated',
  registration_required: 'Registration required',
  no_method: 'No method registered',
  unknown_user: 'Unknown user',
  bad_request: 'Bad request',
  unavailable: 'Unavailable',
  unauthorized: 'Unauthorized client',
  bad_password: 'Wrong password',
  rate_limited: 'Rate limited',
  revoked: 'Revoked',
  expired: 'Expired',
  unknown: 'Unknown session',
  not_yet_valid: 'Not yet valid',
  policy: 'Refused by policy',
  tap_required: 'Temporary Access Pass required',
  refused: 'Refused',
};

export function resultInWords(label) {
  if (RESULT_WORDS[label]) return RESULT_WORDS[label];
  const words = label.replaceAll('_', ' ');
  return words ? words[0].toUpperCase() + words.slice(1) : 'Other';
}
