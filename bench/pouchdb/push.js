// The PouchDB side of the peer benchmark (tests/benches/peer.rs, issue 13).
//
// Fills a fresh local PouchDB (LevelDB, as pouchdb-node stores it) with the
// documents of DATA (a JSON array), then replicates it to a fresh database
// at URL on pouchdb-server, and prints one JSON line:
//   {"docs": <documents the server holds>, "written": <docs_written>, "seconds": <push only>}
// Usage: node push.js URL DATA BATCH_SIZE
'use strict';
const PouchDB = require('pouchdb-node');
const fs = require('fs');
const os = require('os');
const path = require('path');

async function main() {
  const [url, dataFile, batch] = process.argv.slice(2);
  if (!url || !dataFile) throw new Error('usage: node push.js URL DATA [BATCH_SIZE]');
  const docs = JSON.parse(fs.readFileSync(dataFile, 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sotay-pouch-'));
  const local = new PouchDB(path.join(dir, 'local'));
  for (let i = 0; i < docs.length; i += 1000) {
    await local.bulkDocs(docs.slice(i, i + 1000));
  }
  const remote = new PouchDB(url);
  const start = process.hrtime.bigint();
  const result = await local.replicate.to(remote, { batch_size: Number(batch) || 100 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const info = await remote.info();
  console.log(JSON.stringify({ docs: info.doc_count, written: result.docs_written, seconds }));
  await local.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
