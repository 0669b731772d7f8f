/** The line under a report's title: which quantkit made it, and when (UTC, so runs compare anywhere). */
export function reportSubtitle(version: string | undefined, at: Date): string {
  const when = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return [version ? `quantkit ${version}` : 'quantkit', when].join(' · ');
}
