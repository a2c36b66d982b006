// S3Backend::List: a cursor over ListObjectsV2 pages (1,000 keys a request). Only one page is
// held in memory at a time; the next page is fetched when the current one is used up. Keys must
// advance: a server that ignores start-after (or a continuation token) and serves a page again
// would otherwise make a scan loop forever, and one that lists out of order would break the
// merge of two listings; both fail the listing with one clear error. A directory bucket (S3
// Express) lists in no order and takes no start-after: its cursor filters instead and never
// checks order (callers that merge sort it: storage/sorted_listing.h).
#include "storage/s3/s3_backend.h"

namespace ferry::storage {
namespace {

class S3ListingCursor : public ListingCursor {
 public:
  // `request`: the whole listing as a general purpose bucket would take it (bucket, the full
  // prefix, start-after and page size, keys with `root` in front); `root` is taken off the keys
  // listed.
  S3ListingCursor(s3::S3Client& client, std::string root, s3::ListRequest request,
                  bool directory)
      : client_(client),
        bucket_(request.bucket),
        root_(std::move(root)),
        directory_(directory),
        request_(std::move(request)) {
    if (directory_) {
      // A directory bucket takes neither start-after nor a prefix that does not end in '/':
      // both are applied here to what it lists, in its own order.
      wanted_prefix_ = request_.prefix;
      request_.prefix.resize(request_.prefix.rfind('/') == std::string::npos
                                 ? 0
                                 : request_.prefix.rfind('/') + 1);
      skip_through_ = std::move(request_.start_after);
      request_.start_after.clear();
    }
  }

  Result<const ObjectInfo*> Next() override {
    if (!directory_) return NextSorted();
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(const s3::ListEntry* e, NextEntry());
      if (e == nullptr) return static_cast<const ObjectInfo*>(nullptr);
      if (!e->key.starts_with(wanted_prefix_)) continue;
      if (!skip_through_.empty() && e->key <= skip_through_) continue;
      return Yield(*e);
    }
  }

 private:
  // The next entry of the store's listing, fetching pages as needed; nullptr at the end.
  Result<const s3::ListEntry*> NextEntry() {
    while (index_ >= page_.objects.size()) {
      if (done_) return static_cast<const s3::ListEntry*>(nullptr);
      FERRY_ASSIGN_OR_RETURN(page_, client_.ListObjectsV2(request_));
      index_ = 0;
      if (page_.truncated && !page_.next_continuation_token.empty()) {
        request_.continuation_token = page_.next_continuation_token;
      } else {
        done_ = true;
      }
    }
    return &page_.objects[index_++];
  }

  Result<const ObjectInfo*> NextSorted() {
    while (index_ >= page_.objects.size()) {
      if (done_) return static_cast<const ObjectInfo*>(nullptr);
      FERRY_ASSIGN_OR_RETURN(page_, client_.ListObjectsV2(request_));
      index_ = 0;
      if (page_.truncated && !page_.next_continuation_token.empty()) {
        request_.continuation_token = page_.next_continuation_token;
      } else if (page_.truncated && !page_.objects.empty()) {
        request_.start_after = page_.objects.back().key;  // servers without tokens
      } else {
        done_ = true;
      }
    }
    const s3::ListEntry& e = page_.objects[index_++];
    if (!request_.start_after.empty() && e.key <= request_.start_after && last_.empty()) {
      return Status::Internal("listing of s3://" + bucket_ + "/" + request_.prefix +
                              " returned \"" + e.key + "\", not after the requested start \"" +
                              request_.start_after + "\" (the server ignores start-after)");
    }
    if (!last_.empty() && e.key <= last_) {
      return Status::Internal("listing of s3://" + bucket_ + "/" + request_.prefix +
                              " is not in ascending key order (\"" + e.key + "\" after \"" +
                              last_ + "\"): the server repeats or reorders keys");
    }
    last_ = e.key;
    return Yield(e);
  }

  const ObjectInfo* Yield(const s3::ListEntry& e) {
    current_ = ObjectInfo{};
    // Keys below the root prefix only (the request's prefix guarantees it).
    current_.key = e.key.substr(root_.size());
    current_.size = e.size;
    current_.etag = e.etag;
    current_.mtime = e.last_modified;
    current_.storage_class = e.storage_class == "STANDARD" ? "" : e.storage_class;
    // An archived class: not readable before a restore (its state needs a HEAD).
    current_.archive.archived = IsArchiveClass(e.storage_class);
    return &current_;
  }

  s3::S3Client& client_;
  std::string bucket_;
  std::string root_;
  const bool directory_;
  std::string wanted_prefix_;  // directory buckets: keys must start with it
  std::string skip_through_;   // directory buckets: keys up to it are skipped
  s3::ListRequest request_;
  s3::ListPage page_;
  size_t index_ = 0;
  bool done_ = false;
  std::string last_;  // the last key yielded (full key), "" before the first
  ObjectInfo current_;
};

}  // namespace

Result<std::unique_ptr<ListingCursor>> S3Backend::List(std::string_view prefix) {
  return ListFrom(prefix, {});
}

Result<std::unique_ptr<ListingCursor>> S3Backend::ListFrom(std::string_view prefix,
                                                           std::string_view start_after) {
  s3::ListRequest request;
  request.bucket = bucket_;
  request.prefix = prefix_ + std::string(prefix);
  if (!start_after.empty()) request.start_after = prefix_ + std::string(start_after);
  request.max_keys = list_page_size_;
  return std::unique_ptr<ListingCursor>(
      std::make_unique<S3ListingCursor>(client_, prefix_, std::move(request), directory_));
}

Result<std::optional<std::string>> S3Backend::FirstKeyAfter(std::string_view start_after) {
  if (directory_) return Backend::FirstKeyAfter(start_after);  // the smallest of a whole listing
  s3::ListRequest request;
  request.bucket = bucket_;
  request.prefix = prefix_;
  request.start_after = prefix_ + std::string(start_after);
  request.max_keys = 1;
  FERRY_ASSIGN_OR_RETURN(s3::ListPage page, client_.ListObjectsV2(request));
  if (page.objects.empty()) return std::optional<std::string>();
  return std::optional<std::string>(page.objects.front().key.substr(prefix_.size()));
}

}  // namespace ferry::storage
