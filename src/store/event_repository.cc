#include "store/event_repository.h"

#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "store/array_literal.h"
#include "store/pg_error.h"

namespace auri {
namespace {

using store_internal::ArrayLiteral;

// Columns in the order of the unnest() below.
constexpr const char* kInsertSql =
    "INSERT INTO events (id, chain_id, block_number, block_hash, transaction_hash, log_index, "
    "registry, event_type, agent_id, \"timestamp\", block_time, owner, token_uri, metadata_key, "
    "metadata_value, client_address, feedback_index, score, tag1, tag2, file_uri, file_hash, "
    "validator_address, request_uri, request_hash, response, response_uri, response_hash, tag) "
    "SELECT id, chain_id, block_number, block_hash, transaction_hash, log_index, registry, "
    "event_type, agent_id, ts, to_timestamp(ts), owner, token_uri, metadata_key, metadata_value, "
    "client_address, feedback_index, score, tag1, tag2, file_uri, file_hash, validator_address, "
    "request_uri, request_hash, response, response_uri, response_hash, tag "
    "FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::integer[], "
    "$7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], "
    "$14::text[], $15::text[], $16::bigint[], $17::smallint[], $18::text[], $19::text[], "
    "$20::text[], $21::text[], $22::text[], $23::text[], $24::text[], $25::smallint[], "
    "$26::text[], $27::text[], $28::text[]) "
    "AS u(id, chain_id, block_number, block_hash, transaction_hash, log_index, registry, "
    "event_type, agent_id, ts, owner, token_uri, metadata_key, metadata_value, client_address, "
    "feedback_index, score, tag1, tag2, file_uri, file_hash, validator_address, request_uri, "
    "request_hash, response, response_uri, response_hash, tag) "
    "RETURNING id";

}  // namespace

Result<InsertEventsResult> InsertEvents(ConnectionPool& pool,
                                        const std::vector<pipeline::Event>& events,
                                        std::chrono::milliseconds timeout) {
  InsertEventsResult result;
  if (events.empty()) return result;

  ArrayLiteral id, chain_id, block_number, block_hash, transaction_hash, log_index, registry,
      event_type, agent_id, ts, owner, token_uri, metadata_key, metadata_value, client_address,
      feedback_index, score, tag1, tag2, file_uri, file_hash, validator_address, request_uri,
      request_hash, response, response_uri, response_hash, tag;
  for (const pipeline::Event& e : events) {
    id.AddText(e.id);
    chain_id.AddInt(e.chain_id);
    block_number.AddInt(e.block_number);
    block_hash.AddText(e.block_hash);
    transaction_hash.AddText(e.transaction_hash);
    log_index.AddInt(e.log_index);
    registry.AddText(e.registry);
    event_type.AddText(e.event_type);
    agent_id.AddInt(e.agent_id);
    ts.AddInt(e.timestamp);
    owner.AddText(e.owner);
    token_uri.AddText(e.token_uri);
    metadata_key.AddText(e.metadata_key);
    metadata_value.AddText(e.metadata_value);
    client_address.AddText(e.client_address);
    feedback_index.AddInt(e.feedback_index);
    score.AddInt(e.score);
    tag1.AddText(e.tag1);
    tag2.AddText(e.tag2);
    file_uri.AddText(e.file_uri);
    file_hash.AddText(e.file_hash);
    validator_address.AddText(e.validator_address);
    request_uri.AddText(e.request_uri);
    request_hash.AddText(e.request_hash);
    response.AddInt(e.response);
    response_uri.AddText(e.response_uri);
    response_hash.AddText(e.response_hash);
    tag.AddText(e.tag);
  }

  ASSIGN_OR_RETURN(PooledConnection conn, pool.Acquire(timeout));
  try {
    pqxx::work tx(conn.get());
    pqxx::result rows = tx.exec_params(
        kInsertSql, id.Finish(), chain_id.Finish(), block_number.Finish(), block_hash.Finish(),
        transaction_hash.Finish(), log_index.Finish(), registry.Finish(), event_type.Finish(),
        agent_id.Finish(), ts.Finish(), owner.Finish(), token_uri.Finish(), metadata_key.Finish(),
        metadata_value.Finish(), client_address.Finish(), feedback_index.Finish(), score.Finish(),
        tag1.Finish(), tag2.Finish(), file_uri.Finish(), file_hash.Finish(),
        validator_address.Finish(), request_uri.Finish(), request_hash.Finish(), response.Finish(),
        response_uri.Finish(), response_hash.Finish(), tag.Finish());
    tx.commit();
    result.accepted = static_cast<int64_t>(rows.size());
    result.duplicates = static_cast<int64_t>(events.size()) - result.accepted;
    return result;
  } catch (const std::exception& e) {
    // A failure at COMMIT whose outcome is unknown (pqxx::in_doubt_error) maps to kInternal; the
    // client retries and the id dedupe makes the retry safe either way.
    if (store_internal::IsConnectionLoss(e)) conn.MarkBroken();
    return store_internal::StatusFromException(e, "inserting events");
  }
}

}  // namespace auri
