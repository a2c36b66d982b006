// AzureBackend: one container (and key prefix) of an Azure storage account as a Backend, over
// the Blob API's block blobs (docs/design/azure.md). The client (one per account, endpoint and
// credentials) is the caller's and outlives the backend.
//
// What it does: List Blobs (flat, in the store's lexical order, paged by marker), Get Blob
// Properties (Stat), Get Blob with x-ms-range (ReadAt: If-Match pinned to the ETag, the range's
// Content-MD5 asked for and checked up to 4 MiB, the blob's own checked when a read covers the
// whole blob), Put Blob (Content-MD5 always sent, If-None-Match: * for create-only writes),
// chunked writes as Put Block + Put Block List (azure_writer.cc: parts sent by the caller's
// threads, resumable from the uncommitted block list), Delete Blob, user metadata (names encoded,
// azure_format.h) and content headers. Not yet: server-side copies, access tiers, blob
// versions, index tags (features say so; the defaults refuse).
//
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "storage/azure/azure_client.h"
#include "storage/azure/azure_format.h"
#include "storage/backend.h"

namespace ferry::storage::azure {

class AzureBackend : public Backend {
 public:
  // `prefix`: "" or ends with '/'.
  AzureBackend(AzureClient& client, std::string container, std::string prefix);

  const Features& features() const override { return features_; }
  std::string Describe() const override;
  Status Check(std::stop_token stop) override;

  Result<std::unique_ptr<ListingCursor>> List(std::string_view prefix) override;
  Result<ObjectInfo> Stat(std::string_view key, bool with_tags, std::stop_token stop) override;
  Status ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                std::string_view etag, std::stop_token stop) override;
  // One Get Blob (no range): the bytes and the details its headers carry; the blob's stored
  // Content-MD5, where it has one, checked.
  Result<ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                std::string_view etag, std::stop_token stop) override;
  Result<WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                          const WriteSpec& spec, std::stop_token stop) override;
  Result<std::unique_ptr<ChunkWriter>> OpenChunkWriter(std::string_view key, const WriteSpec& spec,
                                                       uint64_t part_size,
                                                       std::stop_token stop) override;
  Result<std::unique_ptr<ChunkWriter>> ResumeChunkWriter(std::string_view key,
                                                         std::string_view upload_id,
                                                         const WriteSpec& spec, uint64_t part_size,
                                                         std::stop_token stop) override;
  Result<std::vector<PendingUpload>> ListPendingUploads(std::string_view prefix,
                                                        std::stop_token stop) override;
  Status AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) override;
  Status Delete(std::string_view key, std::stop_token stop) override;
  // Blob Batch (azure_batch.cc): up to 256 Delete Blobs in one request with Shared Key. A
  // service that refuses batches (400/501, measured once per backend) or a SAS gets one
  // Delete per key (Backend::DeleteMany); a subrequest that failed transiently, or whose
  // answer is missing, is sent again alone. Absent keys are fine; the first other failure is
  // returned naming its key.
  Status DeleteMany(std::span<const std::string> keys, std::stop_token stop) override;
  Result<std::chrono::system_clock::time_point> ServerTime(std::stop_token stop) override;

  // `ferry mb` / `ferry rb` of a container (azure_batch.cc): Create Container (an existing
  // one is kAlreadyExists); Delete Container only when it holds no blob (a one-entry List
  // Blobs first, committed or not: kFailedPrecondition naming it otherwise; Azure itself
  // would delete every blob in it). A blob written between the two is deleted with it.
  Status CreateContainer(std::stop_token stop);
  Status DeleteEmptyContainer(std::stop_token stop);

  // Entries per List Blobs page (5000, Azure's most); tests use small pages to exercise markers.
  void set_list_page_size(int n) { page_size_ = n; }

  // --- for the chunk writer (azure_writer.cc) and the listing cursor ---
  AzureClient& client() { return client_; }
  const std::string& container() const { return container_; }
  // The blob name of `key` (the prefix prepended); kInvalidArgument for a name Azure cannot hold.
  Result<std::string> BlobName(std::string_view key) const;
  // A call on this container (and blob, if not empty).
  AzureCall CallFor(std::string operation, std::string method, std::string blob) const;
  // One List Blobs page of blob names starting with `blob_prefix` after `marker`;
  // `uncommitted`: blobs with only uncommitted blocks are listed too.
  Result<BlobsPage> ListPage(const std::string& blob_prefix, const std::string& marker,
                                    bool uncommitted, std::stop_token stop);
  // The uncommitted blocks of `blob` (kNotFound when the blob has neither kind of block).
  Result<std::vector<Block>> UncommittedBlocks(const std::string& blob,
                                                      std::stop_token stop);
  // Drops the uncommitted blocks of `blob` where that changes no object: when the blob does
  // not exist, an empty commit (If-None-Match: *) then a delete pinned to its ETag; a blob that
  // exists keeps them until its next write or Azure's one-week expiry. Absent: Ok.
  Status DropUncommitted(const std::string& blob, std::stop_token stop);
  const std::string& prefix() const { return prefix_; }

 private:
  // One Blob Batch of at most kAzureBatchMax deletes; kNotSupported when the service (or
  // the credentials) cannot batch, before anything was deleted by it.
  Status DeleteBatch(std::span<const std::string> keys, std::stop_token stop);
  std::atomic<bool> batch_refused_{false};
  AzureClient& client_;
  std::string container_;
  std::string prefix_;
  int page_size_ = 5000;
  Features features_;
};

}  // namespace ferry::storage::azure
