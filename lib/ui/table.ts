/** Plain text tables: columns padded to the widest cell, the last column left ragged. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  if (!rows.length) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`).join('');
}

/** The services table that `status` and `up` print. */
export function servicesTable(services: readonly { name: string; state: string; health: string; ports: readonly string[] }[]): string {
  return formatTable([
    ['SERVICE', 'STATE', 'HEALTH', 'PORTS'],
    ...services.map((s) => [s.name, s.state, s.health, s.ports.join(', ') || '-']),
  ]);
}
