// ferry's launcher of the Cloud Storage emulator of firebase-tools (npm), for tests only
// (docs/design/gcs.md, scripts/gcs-emulator-start.sh).
//
//   node launch.js FIREBASE_TOOLS_DIR PORT
//
// It serves only the emulator's GCS JSON API app (lib/emulator/storage/server.js) on
// 127.0.0.1:PORT. The emulator's start() is not called: it would start the security-rules
// runtime, a JAR downloaded from Google at first start (no network here); the GCS JSON API
// routes (apis/gcloud.js) use the admin storage layer, which asks no rules. Objects are kept
// in memory and in staging files under $TMPDIR (the start script points it at its own dir).
//
// One addition of ours, in front of the emulator's routes (the emulator lacks it): chunked
// resumable uploads as GCS does them. The emulator's PUT of an upload session takes the
// whole body as the last chunk and finalizes; here a PUT with `Content-Range: bytes A-B/*`
// appends one chunk and answers 308 with `Range: bytes=0-B`, `bytes */N` asks the session's
// state, and `bytes A-B/N` (or `bytes */N` with everything received) finalizes through the
// emulator's own code. A chunk that does not start where the session ends is refused (400)
// and changes nothing, as GCS keeps only contiguous bytes. A DELETE of a session cancels it
// (499, as GCS answers); the emulator has no route for it.
//
// objects.rewrite is served at GCS's path /storage/v1/b/.../rewriteTo/... (the emulator has it
// under /b/... only); it copies in one call (done: true, never a rewriteToken).
//
// The emulator makes every bucket it is asked about; GCS answers 404 for a bucket that does not
// exist. So that a test can see that answer, buckets named `ferry-missing-*` are answered as
// GCS answers a missing bucket (and made by nothing).
"use strict";

const path = require("path");

const [, , toolsDir, portArg] = process.argv;
if (!toolsDir || !portArg) {
  console.error("usage: node launch.js FIREBASE_TOOLS_DIR PORT");
  process.exit(2);
}
const lib = path.join(toolsDir, "lib", "emulator");
const { StorageEmulator } = require(path.join(lib, "storage", "index.js"));
const { createApp } = require(path.join(lib, "storage", "server.js"));
const { EmulatorRegistry } = require(path.join(lib, "registry.js"));
const { Emulators } = require(path.join(lib, "types.js"));
const { CloudStorageObjectMetadata } = require(path.join(lib, "storage", "metadata.js"));
// express as firebase-tools resolves it (hoisted beside it or nested in it)
const express = require(require.resolve("express", { paths: [toolsDir] }));

const port = Number(portArg);
const projectId = "ferry-test";

// The session's bytes so far: "bytes=0-N" (absent when nothing was received).
function rangeHeader(upload) {
  return upload.size > 0 ? `bytes=0-${upload.size - 1}` : undefined;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on("data", (c) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

// PUT /upload/storage/v1/b/:bucket/o?upload_id=... with a Content-Range: GCS's chunked protocol.
function chunkedResumable(emulator) {
  const { adminStorageLayer, uploadService } = emulator;
  return async (req, res, next) => {
    const cr = req.header("content-range");
    if (!cr || !req.query.upload_id) return next();
    const m = /^bytes (\*|(\d+)-(\d+))\/(\*|\d+)$/.exec(cr.trim());
    if (!m) return res.status(400).json({ error: { code: 400, message: "bad Content-Range" } });
    let upload;
    try {
      upload = uploadService.getResumableUpload(req.query.upload_id.toString());
    } catch (err) {
      return res.status(404).json({ error: { code: 404, message: "no such upload session" } });
    }
    const body = await readBody(req);
    if (upload.status === "final") {
      // GCS answers a finished session with its object
      const done = await adminStorageLayer.getObject({ bucketId: upload.bucketId,
        decodedObjectId: upload.objectId });
      return res.status(200).json(new CloudStorageObjectMetadata(done.metadata));
    }
    if (upload.status !== "active") {
      return res.status(410).json({ error: { code: 410, message: "upload session cancelled" } });
    }
    const total = m[4] === "*" ? undefined : Number(m[4]);
    if (m[1] !== "*") {
      const first = Number(m[2]);
      const last = Number(m[3]);
      if (first !== upload.size || last - first + 1 !== body.length) {
        return res.status(400).json({ error: { code: 400,
          message: `chunk ${first}-${last} (${body.length} bytes) does not continue at ${upload.size}` } });
      }
      uploadService.continueResumableUpload(upload.id, body);
    }
    if (total === undefined || upload.size < total) {
      const range = rangeHeader(upload);
      if (range) res.setHeader("Range", range);
      res.setHeader("Content-Length", "0");
      return res.status(308).end();
    }
    if (upload.size !== total) {
      return res.status(400).json({ error: { code: 400, message: "size mismatch" } });
    }
    const done = uploadService.finalizeResumableUpload(upload.id);
    const metadata = await adminStorageLayer.uploadObject(done);
    return res.status(200).json(new CloudStorageObjectMetadata(metadata));
  };
}

async function main() {
  const emulator = new StorageEmulator({ projectId, host: "127.0.0.1", port, auto_download: false });
  EmulatorRegistry.set(Emulators.STORAGE, emulator);
  const app = await createApp(projectId, emulator);
  const outer = express();
  outer.use(["/storage/v1/b/:bucketId", "/upload/storage/v1/b/:bucketId"], (req, res, next) => {
    if (!String(req.params.bucketId).startsWith("ferry-missing-")) return next();
    const message = "The specified bucket does not exist.";
    return res.status(404).json({ error: { code: 404, message,
      errors: [{ message, domain: "global", reason: "notFound" }] } });
  });
  const chunked = chunkedResumable(emulator);
  // a client that drops its connection mid-chunk (a killed copy) rejects the body's promise:
  // that chunk changes nothing, and the emulator keeps serving
  outer.put("/upload/storage/v1/b/:bucketId/o", (req, res, next) =>
    chunked(req, res, next).catch((err) => {
      if (!res.headersSent && !req.destroyed) {
        res.status(500).json({ error: { code: 500, message: String(err && err.message) } });
      }
    }));
  // The emulator serves objects.rewrite (and copyTo) under /b/... only, not under the
  // /storage/v1/b/... that GCS and its clients use: the same route under GCS's path.
  outer.post(/^\/storage\/v1\/b\/[^/]+\/o\/[^/]+\/(rewriteTo|copyTo)\/b\/[^/]+\/o\/[^/]+$/,
    (req, res, next) => {
      req.url = req.url.slice("/storage/v1".length);
      next();
    });
  outer.delete("/upload/storage/v1/b/:bucketId/o", (req, res) => {
    try {
      emulator.uploadService.cancelResumableUpload(String(req.query.upload_id || ""));
    } catch (err) {
      return res.status(404).json({ error: { code: 404, message: "no such upload session" } });
    }
    return res.status(499).end();
  });
  outer.use(app);
  outer.listen(port, "127.0.0.1", () => {
    console.log(`gcs emulator listening on 127.0.0.1:${port}`);
  });
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
