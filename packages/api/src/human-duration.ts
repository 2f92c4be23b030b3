// Kubernetes' short human durations for AGE columns (apimachinery pkg/util/duration HumanDuration):
// precise when young (`90s`, `5m30s`), coarser as things age (`3h`, `2d4h`, `400d`, `3y20d`).

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;
const year = 365 * day;

/**
 * `45s`, `5m`, `3h12m`, `2d4h`, ... for a duration in milliseconds. Up to 1 s in the future reads
 * as `0s` (clock skew between machines); further in the future is `<invalid>`.
 */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '<invalid>';
  const seconds = Math.trunc(ms / second);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 2 * 60) return `${seconds}s`;
  const minutes = Math.trunc(ms / minute);
  if (minutes < 10) return withRemainder(minutes, 'm', seconds % 60, 's');
  if (minutes < 3 * 60) return `${minutes}m`;
  const hours = Math.trunc(ms / hour);
  if (hours < 8) return withRemainder(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(ms / day);
  if (hours < 8 * 24) return withRemainder(days, 'd', hours % 24, 'h');
  if (hours < 2 * 365 * 24) return `${days}d`;
  const years = Math.trunc(ms / year);
  if (hours < 8 * 365 * 24) return withRemainder(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function withRemainder(whole: number, unit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${whole}${unit}` : `${whole}${unit}${rest}${restUnit}`;
}
