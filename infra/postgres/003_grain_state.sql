-- Grain state for Orleans ADO.NET grain storage (Microsoft.Orleans.Persistence.AdoNet).
--
-- The provider identifies a state by the service id, a "grain type" string (Orleans 10 passes the
-- [PersistentState] name there, not the grain class) and the grain key:
-- N0/N1 hold a Guid or integer key (both 0 for a string key) and the extension string holds a string
-- key or a key extension (NULL when there is none). It also passes 32-bit hashes of the key and of
-- the type, which lead the unique index so a lookup touches one narrow index range. Hex-looking
-- string keys become integer keys inside Orleans, which is why Grinder uses keys like 'acct-main'.
--
-- version is the ETag: a first write (no ETag) inserts version 1 and fails if a row exists; every
-- later write must name the current version and bumps it. A write that fails returns NULL as the new
-- version and the provider raises InconsistentStateException.
--
-- payload holds the serializer's bytes unchanged. Grinder configures the System.Text.Json grain
-- storage serializer, so these are UTF-8 JSON; the grinder_grain_state_json view decodes them.
CREATE TABLE grinder_grain_state (
    service_id      text        NOT NULL,
    grain_type      text        NOT NULL,
    grain_type_hash integer     NOT NULL,
    grain_id_hash   integer     NOT NULL,
    grain_id_n0     bigint      NOT NULL,
    grain_id_n1     bigint      NOT NULL,
    grain_id_ext    text,
    version         integer     NOT NULL,
    payload         bytea,
    written_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT grinder_grain_state_key UNIQUE NULLS NOT DISTINCT
        (grain_id_hash, grain_type_hash, service_id, grain_id_n0, grain_id_n1, grain_type, grain_id_ext)
);

COMMENT ON COLUMN grinder_grain_state.grain_type IS
    'The provider''s grain type string: the [PersistentState] name for grain state.';
COMMENT ON COLUMN grinder_grain_state.grain_id_ext IS
    'String grain key (e.g. acct-main), or the key extension of a Guid/integer key.';
COMMENT ON COLUMN grinder_grain_state.version IS
    'ETag: 1 on the first write, +1 on every write or clear.';
COMMENT ON COLUMN grinder_grain_state.payload IS
    'Serialized state as written by the provider (UTF-8 JSON); NULL after a clear.';

-- Writes (or, with a NULL payload, clears) one grain's state under the ETag rule above.
-- Returns the new version, or NULL when the expected version is not the stored one.
CREATE FUNCTION grinder_grain_state_write(
    p_service_id       text,
    p_grain_type       text,
    p_grain_type_hash  integer,
    p_grain_id_hash    integer,
    p_grain_id_n0      bigint,
    p_grain_id_n1      bigint,
    p_grain_id_ext     text,
    p_expected_version integer,
    p_payload          bytea)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    new_version integer;
BEGIN
    IF p_expected_version IS NULL THEN
        -- The grain believes no state exists yet. If a row exists anyway (another activation wrote
        -- first), insert nothing: that is a conflict, not an overwrite.
        INSERT INTO grinder_grain_state (
            service_id, grain_type, grain_type_hash, grain_id_hash,
            grain_id_n0, grain_id_n1, grain_id_ext, version, payload)
        VALUES (
            p_service_id, p_grain_type, p_grain_type_hash, p_grain_id_hash,
            p_grain_id_n0, p_grain_id_n1, p_grain_id_ext, 1, p_payload)
        ON CONFLICT ON CONSTRAINT grinder_grain_state_key DO NOTHING
        RETURNING version INTO new_version;
        RETURN new_version;
    END IF;

    -- Concurrent writers with the same expected version queue on the row lock; the second one
    -- re-reads the bumped version after the first commits, matches nothing and returns NULL.
    UPDATE grinder_grain_state
       SET version = version + 1,
           payload = p_payload,
           written_at = now()
     WHERE grain_id_hash = p_grain_id_hash
       AND grain_type_hash = p_grain_type_hash
       AND service_id = p_service_id
       AND grain_id_n0 = p_grain_id_n0
       AND grain_id_n1 = p_grain_id_n1
       AND grain_type = p_grain_type
       AND grain_id_ext IS NOT DISTINCT FROM p_grain_id_ext
       AND version = p_expected_version
    RETURNING version INTO new_version;
    RETURN new_version;
END
$fn$;

-- Decodes a payload for reading; NULL for a cleared state or bytes that are not UTF-8 JSON, so one
-- odd row never breaks an operator's query over the whole table.
CREATE FUNCTION grinder_payload_json(p_payload bytea)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $fn$
BEGIN
    RETURN convert_from(p_payload, 'UTF8')::jsonb;
EXCEPTION
    WHEN invalid_text_representation OR character_not_in_repertoire OR untranslatable_character THEN
        RETURN NULL;
END
$fn$;

-- For operators: one row per grain state with the state as jsonb, e.g.
--   SELECT state FROM grinder_grain_state_json WHERE grain_key = 'acct-main';
-- state_name is the provider's "grain type" string: for a [PersistentState("name", ...)] field, Orleans
-- passes that state name (not the grain class), so state names must differ between grain classes
-- whose keys can coincide.
CREATE VIEW grinder_grain_state_json AS
SELECT service_id,
       grain_type AS state_name,
       grain_id_ext AS grain_key,
       grain_id_n0,
       grain_id_n1,
       version,
       written_at,
       grinder_payload_json(payload) AS state
  FROM grinder_grain_state;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
SELECT payload AS "PayloadBinary",
       version AS "Version"
  FROM grinder_grain_state
 WHERE grain_id_hash = @GrainIdHash
   AND grain_type_hash = @GrainTypeHash
   AND service_id = @ServiceId
   AND grain_id_n0 = @GrainIdN0
   AND grain_id_n1 = @GrainIdN1
   AND grain_type = @GrainTypeString
   AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

('WriteToStorageKey', $q$
SELECT grinder_grain_state_write(
    @ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdHash,
    @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
    @GrainStateVersion, @PayloadBinary) AS "NewGrainStateVersion"
$q$),

-- Clear keeps the row (payload NULL) so the version keeps counting and a stale writer still loses.
('ClearStorageKey', $q$
SELECT grinder_grain_state_write(
    @ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdHash,
    @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
    @GrainStateVersion, NULL) AS "NewGrainStateVersion"
$q$),

-- Used instead of ClearStorageKey when a provider is configured with DeleteStateOnClear. Returns a
-- version different from the caller's on success; no row (a conflict) when the version is stale.
('DeleteStorageKey', $q$
DELETE FROM grinder_grain_state
 WHERE grain_id_hash = @GrainIdHash
   AND grain_type_hash = @GrainTypeHash
   AND service_id = @ServiceId
   AND grain_id_n0 = @GrainIdN0
   AND grain_id_n1 = @GrainIdN1
   AND grain_type = @GrainTypeString
   AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
   AND version = @GrainStateVersion
RETURNING version + 1 AS "NewGrainStateVersion"
$q$);
