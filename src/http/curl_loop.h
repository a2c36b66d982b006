// Internal to the http module: runs one transfer of an easy handle on the calling thread
// through a multi handle of that thread driven by epoll (libcurl's socket interface), instead of
// curl_easy_perform.
//
// Why: curl_easy_perform polls every socket with a zero timeout before and after each read and
// write, and once more for the wake-up pipe of its private multi handle, about eleven poll
// calls per small copied object (a GET and a PUT). With the socket interface libcurl is told
// which socket is ready, so it skips those checks; one epoll_wait per wait remains. On a
// virtual machine where a system call costs microseconds, that is most of a small copy's CPU.
//
// Each thread keeps one multi handle (and so its own connection cache, up to kMaxConnections
// connections) and one epoll instance for its lifetime; an easy handle is added for the transfer
// and removed after it, leaving its connection in the thread's cache for the next request.
// A transfer started from inside a libcurl callback of this thread (a sink that sends a request)
// runs with curl_easy_perform: the thread's multi handle is busy.
//
// Returns the transfer's CURLcode as curl_easy_perform would, or CURLE_ABORTED_BY_CALLBACK when
// `stop` was requested (noticed within kStopPollMs). Thread-safety: per thread.
#pragma once

#include <curl/curl.h>

#include <stop_token>

namespace ferry::http::internal {

inline constexpr long kMaxConnections = 16;
inline constexpr int kStopPollMs = 200;

CURLcode PerformOnThisThread(CURL* easy, std::stop_token stop);

// CURLOPT_CLOSESOCKETFUNCTION of every easy handle: closes `fd` and forgets it in this thread's
// loop (libcurl closes a connection on the thread whose multi handle holds it).
int CloseSocket(void* user, curl_socket_t fd);

}  // namespace ferry::http::internal
