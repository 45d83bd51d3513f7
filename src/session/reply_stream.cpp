#include "pgsplit/session/reply_stream.hpp"

#include "pgsplit/protocol/frame.hpp"

namespace pgsplit::session {

namespace {
bool endsWithReadyForQuery(char request) {
  return request == 'S' || request == 'Q' || request == 'F';
}
}  // namespace

void ReplyStream::reset() {
  queue_.clear();
  remaining_ = 0;
  dropping_ = false;
  failed_ = false;
  skipping_ = false;
  held_ = {};
  holding_ = false;
  captured_.clear();
}

bool ReplyStream::dropQueuedSync() {
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    if (queue_[i].request == 'S') {
      queue_.erase(i);
      return true;
    }
  }
  return false;
}

bool ReplyStream::holdLastReady() {
  if (queue_.empty()) return false;
  PendingReply& last = queue_[queue_.size() - 1];
  if (!last.forClient || (last.request != 'S' && last.request != 'Q')) return false;
  last.holdsReady = true;
  return true;
}

bool ReplyStream::push(PendingReply&& entry) {
  if (skipping_) {
    if (entry.request != 'S') return false;
    skipping_ = false;
  }
  queue_.push(std::move(entry));
  return true;
}

void ReplyStream::skipToSync(ReplyListener& l) {
  failed_ = true;
  while (!queue_.empty() && queue_.front().request != 'S') {
    PendingReply skipped = queue_.pop();
    if (skipped.statement) l.statementFailed(skipped);
  }
  if (queue_.empty()) skipping_ = true;  // the Sync is still to come from the client
}

void ReplyStream::emitSynthetic(std::string& out, ReplyListener& l) {
  while (headIsSynthetic()) {
    PendingReply e = queue_.pop();
    if (e.synthetic == 'E') {
      out += e.payload;
      if (e.statement) l.statementFailed(e);
      skipToSync(l);
      continue;
    }
    if (e.synthetic == 'C') {
      out += e.payload;
      const std::string_view msg = e.payload;
      if (msg.size() > 6) l.commandComplete(msg.substr(5, msg.size() - 6), e);
      continue;
    }
    char msg[5] = {e.synthetic, 0, 0, 0, 4};
    out.append(msg, sizeof msg);
  }
}

bool ReplyStream::takeSynthetic(std::string& out, ReplyListener& l) {
  if (remaining_ != 0 || !headIsSynthetic()) return false;
  emitSynthetic(out, l);
  return true;
}

void ReplyStream::popTerminated(char request) {
  if (!queue_.empty() && queue_.front().request == request) queue_.pop();
}

ReplyStream::Action ReplyStream::decide(char type, std::string_view body, bool whole,
                                        ReplyListener& l, bool& stop) {
  // Nothing expected: notifications, notices, parameter changes, a FATAL before a close.
  if (queue_.empty())
    return type == 'Z' || type == '1' || type == '2' || type == '3' ? Action::Confused
                                                                    : Action::Forward;
  if (type == 'A' || type == 'N') return Action::Forward;  // asynchronous: always the client's
  PendingReply& head = queue_.front();
  const Action mine = head.forClient ? Action::Forward : Action::Drop;

  if (head.capturesLsn && type != 'Z') {
    // pgsplit's own position query: nothing of it reaches the client. (An error — in a failed
    // transaction — just leaves no value.)
    if (type == 'D' && whole && body.size() >= 6) {
      const std::uint16_t columns = protocol::readU16(body.data());
      const std::int32_t len = static_cast<std::int32_t>(protocol::readU32(body.data() + 2));
      if (columns == 1 && len > 0 && static_cast<std::size_t>(len) <= body.size() - 6)
        captured_.assign(body.substr(6, static_cast<std::size_t>(len)));
    }
    return Action::Drop;
  }
  if (type == 'E') {
    Action a = !head.forClient && head.errorAsNotice ? Action::AsNotice : Action::Forward;
    if (head.replaceError) {
      replacement_ = std::move(head.payload);
      a = Action::Replace;
    }
    failed_ = true;
    if (whole) l.errorResponse(body, head);
    if (endsWithReadyForQuery(head.request)) return a;  // its ReadyForQuery follows
    PendingReply failed = queue_.pop();
    if (failed.statement) l.statementFailed(failed);
    skipToSync(l);
    return a;
  }
  if (type == 'Z') {
    if (!endsWithReadyForQuery(head.request) || body.size() != 1) return Action::Confused;
    PendingReply done = queue_.pop();
    const bool failed = failed_;
    failed_ = false;
    const char status = body[0];
    if (done.holdsReady && capturing()) {
      held_ = std::move(done);
      holding_ = true;
      heldStatus_ = status;
      heldFailed_ = failed;
      return Action::Drop;
    }
    if (done.capturesLsn && holding_) {
      replacement_.clear();
      l.lsnCaptured(captured_, heldStatus_, replacement_);
      captured_.clear();
      const char ready[6] = {'Z', 0, 0, 0, 5, heldStatus_};
      replacement_.append(ready, sizeof ready);
      holding_ = false;
      PendingReply client = std::move(held_);
      held_ = {};
      stop = l.readyForQuery(client, heldStatus_, heldFailed_);
      return Action::Replace;
    }
    stop = l.readyForQuery(done, status, failed);
    return done.forClient ? Action::Forward : Action::Drop;
  }
  if (type == 'C') {
    if (head.forClient && whole && !body.empty())
      l.commandComplete(body.substr(0, body.size() - 1), head);
    popTerminated('E');
    return mine;
  }
  if (type == 'S') {
    if (head.forClient && whole && l.parameterStatus(body, head, replacement_))
      return Action::Replace;
    return mine;
  }
  if (type == '1' || type == '2' || type == '3') {
    const char request = type == '1' ? 'P' : type == '2' ? 'B' : 'C';
    if (head.request != request) return Action::Confused;
    queue_.pop();
    return mine;
  }
  if (type == 'T' || type == 'n') {
    popTerminated('D');  // a Describe ends with its RowDescription or NoData
    return mine;
  }
  if (type == 'I' || type == 's') {
    popTerminated('E');  // EmptyQueryResponse, PortalSuspended
    return mine;
  }
  if (type == 'G') {
    // COPY FROM STDIN started by an Execute with its Sync already sent: the server reads that
    // Sync in copy mode and ignores it, and answers the one the client sends after CopyDone.
    l.copyInStarted(head.request == 'E' && queue_.size() > 1 && queue_[1].request == 'S');
    return mine;
  }
  return mine;
}

ReplyStream::Result ReplyStream::process(std::string_view chunk, std::string& out,
                                         ReplyListener& l) {
  Result r;
  const std::size_t n = chunk.size();
  std::size_t pos = 0;
  std::size_t run = 0;  // start of the bytes passed through unchanged since the last rewrite
  auto divert = [&](std::size_t upTo) {
    if (!r.rewritten) {
      out.clear();
      r.rewritten = true;
    }
    out.append(chunk.data() + run, upTo - run);
    run = upTo;
  };

  if (remaining_ > 0) {
    const std::size_t take = remaining_ < n ? remaining_ : n;
    if (dropping_) {
      divert(0);
      run = take;
    }
    pos = take;
    remaining_ -= take;
  }
  for (;;) {
    if (remaining_ == 0 && headIsSynthetic()) {
      divert(pos);
      emitSynthetic(out, l);
    }
    if (n - pos < 5) break;  // (also pos == n) a partial header waits for more bytes
    const char type = chunk[pos];
    const std::uint32_t len = protocol::readU32(chunk.data() + pos + 1);
    if (len < 4 || len > maxLength_) {
      r.status = Status::Malformed;
      break;
    }
    const std::size_t total = std::size_t{1} + len;
    const bool whole = n - pos >= total;
    const bool wantBody =
        type == 'Z' || type == 'E' || type == 'C' || type == 'S' || (type == 'D' && capturing());
    if (wantBody && !whole && total <= kMaxCarry) break;  // carried over whole
    const std::string_view body = whole ? chunk.substr(pos + 5, len - 4) : std::string_view();

    bool stop = false;
    const Action a = decide(type, body, whole, l, stop);
    if (a == Action::Confused) {
      r.status = Status::Malformed;
      break;
    }
    if (a == Action::Drop) {
      divert(pos);
      run = whole ? pos + total : n;
    } else if (a == Action::Replace) {
      divert(pos);
      out += replacement_;
      run = whole ? pos + total : n;
    } else if (a == Action::AsNotice) {
      divert(pos);
      out.push_back('N');
      run = pos + 1;
    }
    if (whole) {
      pos += total;
    } else {
      remaining_ = total - (n - pos);
      dropping_ = a == Action::Drop || a == Action::Replace;
      pos = n;
    }
    if (stop) {
      r.status = Status::Stopped;
      break;
    }
  }
  r.consumed = pos;
  if (r.rewritten && run < pos) out.append(chunk.data() + run, pos - run);
  return r;
}

}  // namespace pgsplit::session
