// AzureBackend::DeleteMany (azure_backend.h): deletes as Blob Batch requests, 256 a request;
// and the container's own creation and removal (ferry mb / rb).
#include <algorithm>
#include <random>

#include "checksum/checksum.h"
#include "storage/azure/azure_backend.h"

namespace ferry::storage::azure {
namespace {

std::string AzureBatchBoundary() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return "batch_ferry_" + checksum::Hex32(static_cast<uint32_t>(rng())) +
         checksum::Hex32(static_cast<uint32_t>(rng()));
}

}  // namespace

Status AzureBackend::DeleteMany(std::span<const std::string> keys, std::stop_token stop) {
  for (size_t at = 0; at < keys.size(); at += kAzureBatchMax) {
    if (stop.stop_requested()) return Status::Cancelled("cancelled");
    const auto chunk = keys.subspan(at, std::min(kAzureBatchMax, keys.size() - at));
    if (!batch_refused_.load(std::memory_order_relaxed) && chunk.size() > 1) {
      Status s = DeleteBatch(chunk, stop);
      if (s.code() != ErrorCode::kNotSupported) {
        FERRY_RETURN_IF_ERROR(s);
        continue;
      }
      // measured once: this service (or a SAS) cannot batch; no batch is tried again
      batch_refused_.store(true, std::memory_order_relaxed);
    }
    FERRY_RETURN_IF_ERROR(Backend::DeleteMany(chunk, stop));
  }
  return Status::Ok();
}

Status AzureBackend::DeleteBatch(std::span<const std::string> keys, std::stop_token stop) {
  std::vector<std::string> subrequests;
  subrequests.reserve(keys.size());
  for (const std::string& key : keys) {
    FERRY_ASSIGN_OR_RETURN(std::string blob, BlobName(key));
    AzureCall call = CallFor("Delete Blob", "DELETE", blob);
    call.headers.Set("x-ms-delete-snapshots", "include");
    FERRY_ASSIGN_OR_RETURN(std::string sub, client_.BatchSubrequest(call));
    subrequests.push_back(std::move(sub));
  }
  const std::string boundary = AzureBatchBoundary();
  const std::string body = AzureBatchBody(boundary, subrequests);
  AzureCall batch = CallFor("Blob Batch", "POST", "");
  batch.query = {{"restype", "container"}, {"comp", "batch"}};
  batch.headers.Set("Content-Type", "multipart/mixed; boundary=" + boundary);
  batch.body = checksum::AsBytes(body);
  Result<AzureReply> reply = client_.Send(batch, stop);
  if (!reply.ok()) {
    // a service without Blob Batch: 400 (an unknown comp) or 501
    const ErrorCode c = reply.status().code();
    if (c == ErrorCode::kInvalidArgument || c == ErrorCode::kNotSupported) {
      return Status::NotSupported(reply.status().message());
    }
    return reply.status();
  }
  FERRY_ASSIGN_OR_RETURN(auto answers,
                         ParseAzureBatchReply(reply->headers.Get("Content-Type"), reply->body));
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = answers.find(static_cast<int>(i));
    const bool gone = it != answers.end() &&
                      (it->second.status == 202 || it->second.status == 200 ||
                       (it->second.status == 404 && it->second.error_code != "ContainerNotFound"));
    if (gone) continue;
    const std::string what = "Delete Blob " + Describe() + keys[i];
    if (it != answers.end()) {
      Status s = MapAzureError(it->second.status, it->second.error_code, "", what);
      if (!s.transient()) return s;
    }
    // no answer, or a transient one: this key alone, with the client's retries
    FERRY_RETURN_IF_ERROR(Delete(keys[i], stop));
  }
  return Status::Ok();
}

Status AzureBackend::CreateContainer(std::stop_token stop) {
  AzureCall call = CallFor("Create Container", "PUT", "");
  call.query = {{"restype", "container"}};
  Result<AzureReply> reply = client_.Send(call, stop);
  if (!reply.ok() && reply.status().message().find("ContainerAlreadyExists") != std::string::npos) {
    return Status::AlreadyExists(reply.status().message());
  }
  return reply.status();
}

Status AzureBackend::DeleteEmptyContainer(std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(BlobsPage page, ListPage("", "", /*uncommitted=*/true, stop));
  if (!page.blobs.empty()) {
    return Status::FailedPrecondition("container " + client_.Describe() + container_ +
                                      " is not empty (it holds " + page.blobs.front().name +
                                      (page.next_marker.empty() ? "" : " and more") + ")");
  }
  AzureCall call = CallFor("Delete Container", "DELETE", "");
  call.query = {{"restype", "container"}};
  return client_.Send(call, stop).status();
}

}  // namespace ferry::storage::azure
