/**
 * PostgreSQL connection URLs as the journal takes them (`postgresql://` or `postgres://`): recognised, shown
 * without their password (the only form that reaches messages, events, `runs` and the journal's rows), and
 * compared by the database they name (host or socket directory, port, database).
 */

/** Whether `spec` (a --journal / ROLLGATE_JOURNAL value) names a PostgreSQL database rather than a file. */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/** The URL without its password (also in a `password=` query parameter); a malformed one with anything after `user:` cut. */
export function urlWithoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    if (u.searchParams.has('password')) u.searchParams.set('password', '');
    return u.toString();
  } catch {
    return url.replace(/^([^:/]+:\/\/[^:@/]*):[^@]*@/, '$1@').replace(/password=[^&]*/gi, 'password=');
  }
}

/** The database a URL names, as a comparable key: host (or socket directory), port, database name. */
export function databaseKey(url: string): string {
  const u = new URL(url);
  const host = u.searchParams.get('host') || decodeURIComponent(u.hostname) || 'localhost';
  const port = u.searchParams.get('port') || u.port || '5432';
  const db =
    u.searchParams.get('dbname') || decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username);
  return `${host}:${port}/${db}`;
}

/** Whether two URLs name the same database (false when either cannot be read). */
export function sameDatabase(a: string, b: string): boolean {
  try {
    return databaseKey(a) === databaseKey(b);
  } catch {
    return false;
  }
}
