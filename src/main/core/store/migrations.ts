/**
 * Schema migrations: entry i brings the schema from version i to i + 1 (PRAGMA user_version).
 * Never edit a released entry; append a new one.
 */
export const MIGRATIONS: string[] = [
  // 1: the model registry. Each lab (database) has its own user models; their files are copied
  // into the folder beside the database so the lab stays whole when the originals move.
  `CREATE TABLE models (
     name TEXT PRIMARY KEY,
     manifest TEXT NOT NULL,
     added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
   );`,
];
