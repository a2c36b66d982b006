#include "http/curl_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <unordered_map>

namespace ferry::http::internal {
namespace {

using Clock = std::chrono::steady_clock;

class ThreadLoop;
thread_local ThreadLoop* this_thread_loop = nullptr;  // while the thread's loop exists

// The multi handle and epoll instance of one thread.
//
// Sockets stay registered with epoll between transfers ("parked") when libcurl no longer
// watches them, so that a keep-alive connection reused by the next request costs no
// epoll_ctl; a parked socket that turns readable (the server closed it) is removed then.
class ThreadLoop {
 public:
  ThreadLoop() : multi_(curl_multi_init()), epfd_(epoll_create1(EPOLL_CLOEXEC)) {
    if (multi_ == nullptr) return;
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &OnSocket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &OnTimer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, kMaxConnections);
    this_thread_loop = this;
  }
  ~ThreadLoop() {
    if (multi_ != nullptr) curl_multi_cleanup(multi_);  // closes the cached connections
    this_thread_loop = nullptr;
    if (epfd_ >= 0) close(epfd_);
  }

  // The socket is being closed: it leaves the epoll set with it, and its number may be reused.
  void Forget(int fd) { sockets_.erase(fd); }
  ThreadLoop(const ThreadLoop&) = delete;
  ThreadLoop& operator=(const ThreadLoop&) = delete;

  bool usable() const { return multi_ != nullptr && epfd_ >= 0 && !busy_; }

  CURLcode Perform(CURL* easy, std::stop_token stop) {
    if (curl_multi_add_handle(multi_, easy) != CURLM_OK) return curl_easy_perform(easy);
    busy_ = true;
    CURLcode result = CURLE_OK;
    epoll_event events[16];
    int running = 0;
    for (;;) {
      if (Finished(&result)) break;
      if (stop.stop_requested()) {
        result = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
      const auto now = Clock::now();
      if (deadline_ && *deadline_ <= now) {
        deadline_.reset();  // the callback sets the next one
        curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
        continue;
      }
      long wait_ms = kStopPollMs;
      if (deadline_) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - now).count();
        wait_ms = std::clamp<long>(left, 0, wait_ms);
      }
      const int n = epoll_wait(epfd_, events, 16, static_cast<int>(wait_ms));
      if (n < 0) {
        if (errno == EINTR) continue;
        result = CURLE_RECV_ERROR;
        break;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        const uint32_t ev = events[i].events;
        auto it = sockets_.find(fd);
        if (it == sockets_.end() || it->second.parked) {
          // Not watched by libcurl: an idle connection that closed or sent something. Out of
          // the set; libcurl finds it dead when it tries to reuse it.
          epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
          if (it != sockets_.end()) sockets_.erase(it);
          continue;
        }
        int action = 0;
        if (ev & EPOLLIN) action |= CURL_CSELECT_IN;
        if (ev & EPOLLOUT) action |= CURL_CSELECT_OUT;
        if (ev & (EPOLLERR | EPOLLHUP)) action |= CURL_CSELECT_ERR | CURL_CSELECT_IN;
        curl_multi_socket_action(multi_, fd, action, &running);
      }
    }
    curl_multi_remove_handle(multi_, easy);
    busy_ = false;
    deadline_.reset();
    return result;
  }

 private:
  struct Watch {
    uint32_t events = 0;
    bool parked = false;
  };

  bool Finished(CURLcode* result) {
    int queued = 0;
    bool done = false;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg == CURLMSG_DONE) {  // one transfer at a time: it is ours
        *result = msg->data.result;
        done = true;
      }
    }
    return done;
  }

  static int OnSocket(CURL*, curl_socket_t s, int what, void* user, void*) {
    auto& self = *static_cast<ThreadLoop*>(user);
    if (what == CURL_POLL_REMOVE) {
      auto it = self.sockets_.find(s);
      if (it != self.sockets_.end()) it->second.parked = true;
      return 0;
    }
    uint32_t events = 0;
    if (what & CURL_POLL_IN) events |= EPOLLIN;
    if (what & CURL_POLL_OUT) events |= EPOLLOUT;
    auto [it, inserted] = self.sockets_.try_emplace(s);
    Watch& w = it->second;
    if (!inserted && w.events == events) {
      w.parked = false;  // still registered with these events: nothing to tell the kernel
      return 0;
    }
    epoll_event e{};
    e.events = events;
    e.data.fd = s;
    // Every close goes through CloseSocket, which forgets the socket; should one slip by (its
    // number reused by a new connection), MOD fails with ENOENT and ADD is right.
    int rc = inserted ? epoll_ctl(self.epfd_, EPOLL_CTL_ADD, s, &e)
                      : epoll_ctl(self.epfd_, EPOLL_CTL_MOD, s, &e);
    if (rc != 0 && errno == ENOENT) rc = epoll_ctl(self.epfd_, EPOLL_CTL_ADD, s, &e);
    if (rc != 0 && errno == EEXIST) rc = epoll_ctl(self.epfd_, EPOLL_CTL_MOD, s, &e);
    if (rc != 0) {
      self.sockets_.erase(it);
      return -1;  // libcurl fails the transfer
    }
    w.events = events;
    w.parked = false;
    return 0;
  }

  static int OnTimer(CURLM*, long timeout_ms, void* user) {
    auto& self = *static_cast<ThreadLoop*>(user);
    if (timeout_ms < 0) {
      self.deadline_.reset();
    } else {
      self.deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }

  CURLM* const multi_;
  const int epfd_;
  bool busy_ = false;
  std::optional<Clock::time_point> deadline_;
  std::unordered_map<int, Watch> sockets_;
};

}  // namespace

int CloseSocket(void*, curl_socket_t fd) {
  if (this_thread_loop != nullptr) this_thread_loop->Forget(fd);
  return close(fd);
}

CURLcode PerformOnThisThread(CURL* easy, std::stop_token stop) {
  thread_local ThreadLoop loop;
  if (!loop.usable()) return curl_easy_perform(easy);
  return loop.Perform(easy, stop);
}

}  // namespace ferry::http::internal
