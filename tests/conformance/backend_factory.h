// The Backend conformance suite: one set of tests (backend_conformance_test.cc) that every
// Backend implementation must pass, in the manner of rclone's fstests and Arrow's generic
// filesystem tests.
//
// To run the suite against a backend, describe it with a BackendFactory and instantiate the
// suite in any test source linked with the target ferry_backend_conformance_suite:
//
//   INSTANTIATE_TEST_SUITE_P(S3, BackendConformanceTest,
//                            ::testing::Values(BackendFactory{"S3", [] { return ...; }}),
//                            FactoryName);
//
// The flags below record, explicitly, the few ways stores legitimately differ; the tests check
// each side of every flag (and of every features() flag) instead of skipping.
//
// Thread-safety: gtest fixtures; one test at a time.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backend.h"

namespace ferry::conformance {

struct BackendFactory {
  std::string name;  // instantiation name: letters, digits and '_' only
  // A new, empty backend for one test (a fresh folder, a fresh key prefix, ...).
  std::function<std::unique_ptr<storage::Backend>()> make;
  // Keys are paths in a tree (local folders): "a" and "a/b" cannot both exist, and writing
  // one while the other exists is kFailedPrecondition.
  bool hierarchical = false;
  // WriteSpec::mtime becomes the object's mtime (files); otherwise the mtime is the time of
  // the write (S3's LastModified).
  bool keeps_write_mtime = false;
  // A non-default storage class the store accepts; used when features().storage_class.
  std::string other_storage_class = "STANDARD_IA";
  // ChunkWriter::ListStoredParts tells which parts an unfinished upload holds (S3 ListParts);
  // otherwise it returns nullopt and the caller's checkpoints are the truth (files).
  bool lists_stored_parts = true;
  // ListVersions works (S3, memory: versioned or not, an unversioned store lists version
  // "null"); otherwise it and the version calls are kNotSupported (files). Whether the store
  // keeps versions is features().versions, after LearnVersions().
  bool lists_versions = true;
  // ChunkWriter::AddMetadataOnCommit's entries become the object's metadata (files: extended
  // attributes; memory). An S3 store that keeps no full-object checksum (RGW) records none: a
  // chunked write is never copied onto itself to add them (storage/s3/multipart.cc).
  bool records_metadata_on_commit = true;
  // A backslash in a key is stored as it is. Azure Blob Storage turns it into '/' (Azurite does
  // too), so AzureBackend refuses such keys with kInvalidArgument rather than write another key.
  bool keeps_backslash = true;
  // Chunked writes keep parts written in any order, and unfinished uploads are listed
  // (ListPendingUploads). A GCS resumable session keeps bytes in order only (a part written
  // ahead of its predecessors is held by the writer, lost with the process, so a resumed
  // upload holds the prefix it kept) and GCS cannot list sessions.
  bool out_of_order_uploads = true;
};

inline void PrintTo(const BackendFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string FactoryName(const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

class BackendConformanceTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  // Makes the backend and runs Check() and LearnVersions() (which tells an S3 backend whether
  // it is versioned).
  void SetUp() override;
  // Deletes whatever the test left (stores that outlive the backend object, such as S3).
  void TearDown() override;

  storage::Backend& backend() { return *backend_; }
  const storage::Features& features() { return backend_->features(); }

  // Put with spec.size set from `body`; returns the ETag and version id.
  Result<storage::WriteResult> PutString(std::string_view key, std::string_view body,
                                         storage::WriteSpec spec = {});
  // Puts each key with the key itself as content (asserts success).
  void PutAll(const std::vector<std::string>& keys);
  // The whole content, via Stat and ReadAt.
  Result<std::string> ReadString(std::string_view key);
  // Every listed object under `prefix`, in listing order.
  Result<std::vector<storage::ObjectInfo>> ListAll(std::string_view prefix);
  Result<std::vector<std::string>> ListKeys(std::string_view prefix);
  // Every entry of ListVersions(prefix, key_marker, version_marker), in listing order.
  Result<std::vector<storage::ObjectInfo>> ListAllVersions(std::string_view prefix,
                                                           std::string_view key_marker = {},
                                                           std::string_view version_marker = {});

  std::unique_ptr<storage::Backend> backend_;
};

}  // namespace ferry::conformance
