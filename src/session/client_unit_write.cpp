// ClientSession: writing a unit of work to its backend (rendered for that backend, sent with one
// send() when the socket takes it, suspending only for the rest), and pgsplit's own answers
// that lead its replies.
#include "pgsplit/net/send_now.hpp"
#include "pgsplit/session/client_session.hpp"

namespace pgsplit::session {

Task<bool> ClientSession::writeUnit(backend::BackendConnection::Ptr target, bool endsWithSync,
                                    const sql::Classification& cls) {
  std::string_view out = renderUnit(*target, endsWithSync, cls);
  if (sendUnitNow(*target, out)) co_return true;
  co_return co_await finishUnit(std::move(target), out);
}

std::string_view ClientSession::renderUnit(backend::BackendConnection& target, bool endsWithSync,
                                           const sql::Classification& cls) {
  wire_.clear();
  const bool alone = replies_.pending() == 0 && replies_.atBoundary() && !batchOpen_;
  // A whole autocommit read on a replica, with nothing else in flight there, may be sent again
  // elsewhere until its reply starts (see retry_).
  const auto& snap = worker_.nodes();
  const bool armable = alone && endsWithSync && target.txnStatus() == 'I' && cls.readOnly &&
                       cls.txnStart == sql::TxnStart::None &&
                       snap.nodes[target.nodeIndex()].role == routing::Role::Replica;
  if (armable) {
    retry_.batch.assign(batch_);
    retry_.ops = batchOps_;
    retry_.cls = cls;
    retry_.node = static_cast<int>(target.nodeIndex());
    retry_.unit = unitSeq_;
    retryWanted_ = false;
  }
  armed_ = armable;
  // An idle backend is brought in line with the client's settings first, in the same write.
  if (alone && target.txnStatus() == 'I') syncSettings(target);
  bool rewritten = renderBatch(target, endsWithSync, batch_, batchOps_, unitSeq_);
  if (captureLsn_ && endsWithSync && lastEndAccepted_) {
    appendWriteLsnQuery(rewritten);
    rewritten = true;
  }
  captureLsn_ = false;
  if (endsWithSync && lastEndAccepted_) ++pendingSyncs_;
  unitWritten(target, endsWithSync, endsWithSync && lastEndAccepted_);  // operations: latency
  if (endsWithSync) {
    if (!lastEndAccepted_) ledger_.abandon(unitSeq_, *this);  // the server skips it all
    closeUnit();
  }
  batchOpen_ = !endsWithSync;
  return rewritten ? std::string_view(wire_) : std::string_view(batch_);
}

bool ClientSession::sendUnitNow(backend::BackendConnection& target, std::string_view& out) {
  const bool sent = transmitNow(target, out);  // (the usual case: all of it, without suspending)
  if (sent && !out.empty()) return false;
  clearBatch();
  // (Not sent: the relay sees the closed connection and reports it.)
  return !sent || active_.get() != &target || !replies_.syntheticReady();
}

Task<bool> ClientSession::finishUnit(backend::BackendConnection::Ptr target, std::string_view out) {
  if (!out.empty()) {
    const bool sent = co_await transmit(target, out);
    clearBatch();
    if (!sent) co_return true;
  }
  if (active_ != target || !replies_.syntheticReady()) co_return true;
  co_return co_await writeSynthetic(target);
}

bool ClientSession::transmitNow(backend::BackendConnection& target, std::string_view& out) {
  if (net::sendNow(target.socket(), out)) return true;
  target.markBroken();
  error_code ignored;
  target.socket().close(ignored);
  return false;
}

Task<bool> ClientSession::transmit(backend::BackendConnection::Ptr target, std::string_view out) {
  error_code ec;
  co_await asio::async_write(target->socket(), asio::buffer(out.data(), out.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_return true;
  target->markBroken();
  error_code ignored;
  target->socket().close(ignored);
  co_return false;
}

Task<bool> ClientSession::writeSynthetic(backend::BackendConnection::Ptr target) {
  // pgsplit's own answers at the head of the reply queue (nothing from the server precedes
  // them) go out now; otherwise the relay writes them at their place.
  if (active_ != target) co_return true;
  synthOut_.clear();
  if (!replies_.takeSynthetic(synthOut_, *this)) co_return true;
  armed_ = false;  // part of the reply reached the client
  std::string bytes = std::move(synthOut_);
  co_return co_await writeClient(bytes);
}

}  // namespace pgsplit::session
