// PgSession: the PostgreSQL driver of the state stores (jobs/postgres/pg_job_store.h states
// the behaviour it promises): a lazily filled connection pool, one transaction per Transact
// call, and the reconnect-and-rerun loop. Opened through OpenPgSession (state.h).
//
// A lost connection is handled by when it broke:
//  * before COMMIT was sent: the server rolled the transaction back; reconnect and run the
//    body again;
//  * during COMMIT: the outcome is unknown. Every write transaction learns its transaction id
//    at BEGIN (txid_current(), in the same round trip), so after reconnecting the session asks
//    the server (txid_status) whether it committed, and either reports success or runs the body
//    again. Only if that cannot be learned within the budget does the call return kUnavailable.
// Connection attempts back off from 50 ms to 1 s, on the store's Clock, for up to
// PgOptions::reconnect_budget per call.
//
// Thread-safety: thread-safe.
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "state/pg_tx.h"
#include "state/state.h"
#include "state/sql_session.h"

namespace ferry::state {

class PgSession : public SqlSession {
 public:
  // Opens the first connection (one attempt). kUnavailable "cannot reach state store
  // <display>: <libpq message>" on failure.
  static Result<std::unique_ptr<PgSession>> Connect(PgTarget target, Clock& clock,
                                                    PgOptions options);
  // REQUIRES: no call in flight.
  ~PgSession() override;

  const Dialect& dialect() const override;
  Status Transact(TxMode mode, const std::function<Status(SqlTx&)>& body) override;
  uint64_t transactions() const override { return transactions_.load(); }

 private:
  enum class Outcome { kCommitted, kFailed, kConflict, kConnectionLost, kCommitUnknown };
  struct Attempt {
    Outcome outcome = Outcome::kFailed;
    Status status;    // why, unless kCommitted
    int64_t xid = 0;  // kCommitUnknown: the transaction to ask about
  };
  // Deadline and backoff of one call's reconnect attempts.
  struct Patience {
    std::chrono::system_clock::time_point deadline;
    std::chrono::milliseconds backoff;
  };

  PgSession(PgTarget target, Clock& clock, PgOptions options)
      : target_(std::move(target)), clock_(clock), options_(options) {}

  // One connection attempt.
  Result<PGconn*> NewConnection();
  // An idle healthy connection, or a new one while fewer than max_connections are open;
  // otherwise waits for one to be released.
  Result<PGconn*> Acquire();
  // Returns `conn` to the pool, or closes it when broken or not idle.
  void Release(PGconn* conn, bool broken);
  // Closes every idle connection (after one broke, the others most likely did too).
  void DropIdle();
  // One attempt at the transaction on `conn`; releases `conn`.
  Attempt RunOnce(PGconn* conn, TxMode mode, const std::function<Status(SqlTx&)>& body);
  // Whether transaction `xid` committed (true) or not (false), asked on a new connection.
  // kUnavailable when that cannot be learned within `patience`.
  Result<bool> ResolveCommit(int64_t xid, Patience& patience);
  // Sleeps before the next attempt; false when the budget is spent.
  bool Backoff(Patience& patience);
  // kUnavailable "state store <display> unreachable for N s: <why>".
  Status Unreachable(const Status& last) const;

  const PgTarget target_;
  Clock& clock_;
  const PgOptions options_;
  std::atomic<uint64_t> transactions_{0};

  std::mutex mu_;
  std::condition_variable released_;
  std::vector<PGconn*> idle_;  // GUARDED_BY(mu_)
  int open_ = 0;               // GUARDED_BY(mu_): idle + in use
};

}  // namespace ferry::state
