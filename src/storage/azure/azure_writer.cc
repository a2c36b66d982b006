// AzureBackend's chunked writes: each part a Put Block (sent on the caller's thread: the
// engine's executor and memory budget decide how many at once, as for S3 parts), Commit a Put
// Block List; resume from the blob's uncommitted block list; pending uploads (blobs with only
// uncommitted blocks of ferry's) listed and dropped. docs/design/azure.md §4.
#include <map>
#include <mutex>

#include "checksum/checksum.h"
#include "storage/azure/azure_backend.h"

namespace ferry::storage::azure {
namespace {

std::string BlockMd5Base64(std::span<const std::byte> data) {
  const checksum::Md5Digest d = checksum::Md5(data);
  return checksum::Base64(d);
}

class AzureChunkWriter : public ChunkWriter {
 public:
  AzureChunkWriter(AzureBackend& backend, std::string blob, const WriteSpec& spec,
                   std::string upload_id)
      : backend_(backend), blob_(std::move(blob)), spec_(spec), upload_id_(std::move(upload_id)) {}
  ~AzureChunkWriter() override {
    if (state_ == State::kOpen) (void)Abort();
  }

  const std::string& upload_id() const override { return upload_id_; }

  Status WriteChunk(int part_number, uint64_t offset, std::span<const std::byte> data,
                    std::stop_token stop) override {
    (void)offset;  // the block id carries the part number; Commit orders them
    if (part_number < 1 || part_number > 999999) {
      return Status::InvalidArgument("part number " + std::to_string(part_number));
    }
    const std::string md5 = BlockMd5Base64(data);
    FERRY_RETURN_IF_ERROR(PutBlock(part_number, data, md5, stop));
    const std::optional<std::string> raw = checksum::Base64Decode(md5);
    const auto* bytes = reinterpret_cast<const uint8_t*>(raw->data());
    std::lock_guard lock(mu_);
    parts_[part_number] = {data.size(), checksum::Hex({bytes, raw->size()})};
    return Status::Ok();
  }

  // The service checked the block against the Content-MD5 it was sent with.
  std::string WrittenPartMd5(int part_number) const override {
    std::lock_guard lock(mu_);
    auto it = parts_.find(part_number);
    return it == parts_.end() ? std::string() : it->second.md5_hex;
  }

  void AddMetadataOnCommit(std::map<std::string, std::string> extra) override {
    std::lock_guard lock(mu_);
    for (auto& [k, v] : extra) extra_[k] = std::move(v);
  }

  Result<WriteResult> Commit(std::stop_token stop) override {
    std::vector<std::string> ids;
    std::map<std::string, std::string> extra;
    {
      std::lock_guard lock(mu_);
      int expected = 1;
      for (const auto& [n, part] : parts_) {
        if (n != expected) {
          return Status::FailedPrecondition("upload " + upload_id_ + " of " + blob_ +
                                            ": part " + std::to_string(expected) +
                                            " was never written");
        }
        ids.push_back(BlockId(upload_id_, n));
        ++expected;
      }
      extra = extra_;
    }
    AzureCall call = backend_.CallFor("Put Block List", "PUT", blob_);
    call.query = {{"comp", "blocklist"}};
    AddWriteHeaders(spec_, extra, call.headers);
    call.headers.Set("Content-Type", "application/xml");
    const std::string body = BlockListXml(ids);
    call.body = checksum::AsBytes(body);
    FERRY_ASSIGN_OR_RETURN(AzureReply reply, backend_.client().Send(call, stop));
    state_ = State::kDone;
    return WriteResult{Unquote(reply.headers.Get("ETag")), ""};
  }

  Status Abort() override {
    if (state_ == State::kAborted) return Status::Ok();
    state_ = State::kAborted;
    return backend_.DropUncommitted(blob_, {});
  }

  Result<std::optional<std::vector<StoredPart>>> ListStoredParts(std::stop_token stop) override {
    FERRY_ASSIGN_OR_RETURN(std::vector<Block> blocks, backend_.UncommittedBlocks(blob_, stop));
    std::map<int, StoredPart> found;
    for (const Block& b : blocks) {
      auto id = ParseBlockId(b.id);
      if (!id || id->first != upload_id_ || id->second == 0) continue;
      found[id->second] = StoredPart{id->second, b.id, b.size};
    }
    std::vector<StoredPart> out;
    for (auto& [n, part] : found) out.push_back(std::move(part));
    return std::optional(std::move(out));
  }

  void AdoptPart(const StoredPart& part) override {
    std::lock_guard lock(mu_);
    parts_[part.part_number] = {part.size, ""};
  }

  void Detach() override { state_ = State::kDetached; }

  // Put Block of one part (part 0: the marker block of an opened upload).
  Status PutBlock(int part_number, std::span<const std::byte> data, const std::string& md5,
                  std::stop_token stop) {
    AzureCall call = backend_.CallFor("Put Block", "PUT", blob_);
    call.query = {{"comp", "block"}};
    const std::string id = BlockId(upload_id_, part_number);
    const auto* bytes = reinterpret_cast<const uint8_t*>(id.data());
    call.query.emplace_back("blockid", checksum::Base64({bytes, id.size()}));
    call.headers.Set("Content-MD5", md5);
    call.body = data;
    return backend_.client().Send(call, stop).status();
  }

 private:
  struct Part {
    uint64_t size = 0;
    std::string md5_hex;  // "" for adopted parts
  };
  enum class State { kOpen, kDone, kAborted, kDetached };

  AzureBackend& backend_;
  const std::string blob_;
  const WriteSpec spec_;
  const std::string upload_id_;
  mutable std::mutex mu_;
  std::map<int, Part> parts_;
  std::map<std::string, std::string> extra_;
  State state_ = State::kOpen;
};

// The names of one listing (committed blobs only, or with uncommitted ones), page by page.
struct AzureNameWalk {
  AzureBackend& backend;
  std::string prefix;
  bool uncommitted;
  BlobsPage page{};
  size_t index = 0;
  bool started = false;

  // The next name, or "" at the end (a blob is never named "").
  Result<std::string> Next(std::stop_token stop) {
    while (index >= page.blobs.size()) {
      if (started && page.next_marker.empty()) return std::string();
      const std::string marker = page.next_marker;
      FERRY_ASSIGN_OR_RETURN(page, backend.ListPage(prefix, marker, uncommitted, stop));
      started = true;
      index = 0;
    }
    return page.blobs[index++].name;
  }
};

}  // namespace

Result<std::vector<Block>> AzureBackend::UncommittedBlocks(const std::string& blob,
                                                           std::stop_token stop) {
  AzureCall call = CallFor("Get Block List", "GET", blob);
  call.query = {{"comp", "blocklist"}, {"blocklisttype", "uncommitted"}};
  FERRY_ASSIGN_OR_RETURN(AzureReply reply, client_.Send(call, stop));
  return ParseBlockList(reply.body, /*committed=*/false);
}

Status AzureBackend::DropUncommitted(const std::string& blob, std::stop_token stop) {
  Result<AzureReply> head = client_.Send(CallFor("Get Blob Properties", "HEAD", blob), stop);
  if (head.ok()) return Status::Ok();  // a blob that exists is never touched to drop blocks
  if (head.status().code() != ErrorCode::kNotFound) return head.status();
  // no blob: an empty commit discards the uncommitted blocks, then the empty blob goes
  AzureCall commit = CallFor("Put Block List", "PUT", blob);
  commit.query = {{"comp", "blocklist"}};
  commit.headers.Set("If-None-Match", "*");
  commit.headers.Set("Content-Type", "application/xml");
  const std::string body = BlockListXml({});
  commit.body = checksum::AsBytes(body);
  Result<AzureReply> made = client_.Send(commit, stop);
  if (!made.ok()) {
    // someone wrote the key meanwhile: their blob stands, and it dropped the blocks
    const ErrorCode code = made.status().code();
    if (code == ErrorCode::kAlreadyExists || code == ErrorCode::kFailedPrecondition) {
      return Status::Ok();
    }
    return made.status();
  }
  AzureCall remove = CallFor("Delete Blob", "DELETE", blob);
  remove.headers.Set("If-Match", made->headers.Get("ETag"));
  Result<AzureReply> removed = client_.Send(remove, stop);
  if (!removed.ok() && removed.status().code() != ErrorCode::kNotFound &&
      removed.status().code() != ErrorCode::kFailedPrecondition) {
    return removed.status();
  }
  return Status::Ok();
}

Result<std::unique_ptr<ChunkWriter>> AzureBackend::OpenChunkWriter(std::string_view key,
                                                                   const WriteSpec& spec,
                                                                   uint64_t part_size,
                                                                   std::stop_token stop) {
  (void)part_size;
  if (spec.if_absent) {
    return Status::NotSupported("create-only chunked writes (" + Describe() + ")");
  }
  FERRY_ASSIGN_OR_RETURN(std::string blob, BlobName(key));
  auto writer = std::make_unique<AzureChunkWriter>(*this, blob, spec,
                                                   NewUploadId(std::chrono::system_clock::now()));
  // the marker block: the upload exists on the store before its first part
  static constexpr std::byte kMarker[1] = {std::byte{'0'}};
  FERRY_RETURN_IF_ERROR(
      writer->PutBlock(0, kMarker, BlockMd5Base64(std::span<const std::byte>(kMarker)), stop));
  return std::unique_ptr<ChunkWriter>(std::move(writer));
}

Result<std::unique_ptr<ChunkWriter>> AzureBackend::ResumeChunkWriter(std::string_view key,
                                                                     std::string_view upload_id,
                                                                     const WriteSpec& spec,
                                                                     uint64_t part_size,
                                                                     std::stop_token stop) {
  (void)part_size;
  FERRY_ASSIGN_OR_RETURN(std::string blob, BlobName(key));
  const std::string not_found = "upload " + std::string(upload_id) + " of " + Describe() +
                                std::string(key) + " is no longer on the store";
  if (!UploadStarted(upload_id)) return Status::NotFound(not_found);
  Result<std::vector<Block>> blocks = UncommittedBlocks(blob, stop);
  if (!blocks.ok()) {
    if (blocks.status().code() == ErrorCode::kNotFound) return Status::NotFound(not_found);
    return blocks.status();
  }
  for (const Block& b : *blocks) {
    auto id = ParseBlockId(b.id);
    if (id && id->first == upload_id) {
      return std::unique_ptr<ChunkWriter>(
          std::make_unique<AzureChunkWriter>(*this, blob, spec, std::string(upload_id)));
    }
  }
  return Status::NotFound(not_found);
}

Result<std::vector<Backend::PendingUpload>> AzureBackend::ListPendingUploads(
    std::string_view prefix, std::stop_token stop) {
  // Blobs listed with include=uncommittedblobs that the plain listing lacks hold only
  // uncommitted blocks: a merge of the two listings, both in name order.
  const std::string blob_prefix = prefix_ + std::string(prefix);
  AzureNameWalk all{*this, blob_prefix, true};
  AzureNameWalk committed{*this, blob_prefix, false};
  FERRY_ASSIGN_OR_RETURN(std::string next_committed, committed.Next(stop));
  std::vector<PendingUpload> out;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(std::string name, all.Next(stop));
    if (name.empty()) return out;
    while (!next_committed.empty() && next_committed < name) {
      FERRY_ASSIGN_OR_RETURN(next_committed, committed.Next(stop));
    }
    if (name == next_committed) continue;
    Result<std::vector<Block>> blocks = UncommittedBlocks(name, stop);
    if (!blocks.ok() && blocks.status().code() == ErrorCode::kNotFound) continue;  // gone
    if (!blocks.ok()) return blocks.status();
    std::map<std::string, bool> uploads;  // only ferry's blocks name an upload
    for (const Block& b : *blocks) {
      if (auto id = ParseBlockId(b.id)) uploads[id->first] = true;
    }
    for (const auto& [upload_id, unused] : uploads) {
      out.push_back({name.substr(prefix_.size()), upload_id,
                     UploadStarted(upload_id).value_or(std::chrono::system_clock::time_point{}),
                     /*ferry_named=*/true});
    }
  }
}

Status AzureBackend::AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string blob, BlobName(upload.key));
  return DropUncommitted(blob, stop);
}

}  // namespace ferry::storage::azure
