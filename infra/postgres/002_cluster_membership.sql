-- Cluster membership for Orleans ADO.NET clustering (Microsoft.Orleans.Clustering.AdoNet).
--
-- Orleans keeps one membership table per cluster (DeploymentId = ClusterOptions.ClusterId) with a
-- table version. Every change to a member row names the table version the silo read (its ETag) and
-- succeeds only if that is still the current version, bumping it; so two silos can never both apply
-- a change computed from the same snapshot. The provider uses the version as the ETag of every row.
-- IAmAlive heartbeats are not membership changes and leave the version alone.

CREATE TABLE grinder_cluster_version (
    deployment_id text        PRIMARY KEY,
    version       integer     NOT NULL DEFAULT 0,
    changed_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per silo incarnation: (address, port, generation) is Orleans' SiloAddress.
-- status holds Orleans' SiloStatus number (see the grinder_cluster_members view for names);
-- suspect_times is the provider's own text encoding of suspicion votes ("silo,time|silo,time").
CREATE TABLE grinder_cluster_member (
    deployment_id   text        NOT NULL REFERENCES grinder_cluster_version (deployment_id) ON DELETE CASCADE,
    address         text        NOT NULL,
    port            integer     NOT NULL,
    generation      integer     NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    status          integer     NOT NULL,
    proxy_port      integer     NOT NULL,
    suspect_times   text,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Inserts (p_insert) or updates one member row and bumps the table version, atomically, if the
-- caller's version is still current. Returns false and changes nothing on a stale version, when the
-- row to insert already exists, or when the row to update does not.
-- An update changes only what Orleans updates: status, suspicion votes and liveness time.
CREATE FUNCTION grinder_cluster_change_member(
    p_insert          boolean,
    p_deployment_id   text,
    p_version         integer,
    p_address         text,
    p_port            integer,
    p_generation      integer,
    p_silo_name       text,
    p_host_name       text,
    p_status          integer,
    p_proxy_port      integer,
    p_suspect_times   text,
    p_start_time      timestamptz,
    p_i_am_alive_time timestamptz)
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
BEGIN
    -- Taking the version row lock first serialises concurrent membership writers; FOR UPDATE
    -- re-checks the version after waiting, so the loser of a race sees the bumped version.
    PERFORM 1
       FROM grinder_cluster_version
      WHERE deployment_id = p_deployment_id
        AND version = p_version
        FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    IF p_insert THEN
        INSERT INTO grinder_cluster_member (
            deployment_id, address, port, generation, silo_name, host_name,
            status, proxy_port, suspect_times, start_time, i_am_alive_time)
        VALUES (
            p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name,
            p_status, p_proxy_port, p_suspect_times, p_start_time, p_i_am_alive_time)
        ON CONFLICT DO NOTHING;
    ELSE
        UPDATE grinder_cluster_member
           SET status = p_status,
               suspect_times = p_suspect_times,
               i_am_alive_time = p_i_am_alive_time
         WHERE deployment_id = p_deployment_id
           AND address = p_address
           AND port = p_port
           AND generation = p_generation;
    END IF;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE grinder_cluster_version
       SET version = version + 1, changed_at = now()
     WHERE deployment_id = p_deployment_id;
    RETURN true;
END
$fn$;

-- For operators and /healthz: members with readable status names (Orleans' SiloStatus values).
CREATE VIEW grinder_cluster_members AS
SELECT m.deployment_id AS cluster_id,
       m.silo_name,
       m.host_name,
       m.address,
       m.port,
       m.proxy_port,
       m.generation,
       CASE m.status
           WHEN 0 THEN 'None'
           WHEN 1 THEN 'Created'
           WHEN 2 THEN 'Joining'
           WHEN 3 THEN 'Active'
           WHEN 4 THEN 'ShuttingDown'
           WHEN 5 THEN 'Stopping'
           WHEN 6 THEN 'Dead'
           ELSE m.status::text
       END AS status,
       m.start_time,
       m.i_am_alive_time,
       m.suspect_times
  FROM grinder_cluster_member m;

-- The membership table as the provider reads it: the cluster's version row joined with its members
-- (all of them, or the one silo named by address, port and generation). The version row comes back
-- even without a member, because the provider takes the table version from the first row. Column
-- names are the ones the provider reads.
CREATE FUNCTION grinder_cluster_read(p_deployment_id text, p_address text, p_port integer, p_generation integer)
RETURNS TABLE (
    "Version" integer, "Address" text, "Port" integer, "Generation" integer, "SiloName" text,
    "HostName" text, "Status" integer, "ProxyPort" integer, "SuspectTimes" text,
    "StartTime" timestamptz, "IAmAliveTime" timestamptz)
LANGUAGE sql
STABLE
AS $fn$
SELECT v.version, m.address, m.port, m.generation, m.silo_name,
       m.host_name, m.status, m.proxy_port, m.suspect_times,
       m.start_time, m.i_am_alive_time
  FROM grinder_cluster_version v
  LEFT JOIN grinder_cluster_member m
         ON m.deployment_id = v.deployment_id
        AND (p_address IS NULL
             OR (m.address = p_address AND m.port = p_port AND m.generation = p_generation))
 WHERE v.deployment_id = p_deployment_id
$fn$;

-- Query keys and parameter names are the provider's contract; the column aliases are the names the
-- provider reads back.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO grinder_cluster_version (deployment_id)
    VALUES (@DeploymentId)
    ON CONFLICT (deployment_id) DO NOTHING
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM created) AS "Created"
$q$),

('MembershipReadAllKey', $q$
SELECT * FROM grinder_cluster_read(@DeploymentId, NULL, NULL, NULL)
$q$),

('MembershipReadRowKey', $q$
SELECT * FROM grinder_cluster_read(@DeploymentId, @Address, @Port, @Generation)
$q$),

('InsertMembershipKey', $q$
SELECT grinder_cluster_change_member(
    true, @DeploymentId, @Version, @Address, @Port, @Generation, @SiloName, @HostName,
    @Status, @ProxyPort, NULL, @StartTime, @IAmAliveTime) AS "Inserted"
$q$),

('UpdateMembershipKey', $q$
SELECT grinder_cluster_change_member(
    false, @DeploymentId, @Version, @Address, @Port, @Generation, NULL, NULL,
    @Status, NULL, @SuspectTimes, NULL, @IAmAliveTime) AS "Updated"
$q$),

('UpdateIAmAlivetimeKey', $q$
UPDATE grinder_cluster_member
   SET i_am_alive_time = @IAmAliveTime
 WHERE deployment_id = @DeploymentId
   AND address = @Address
   AND port = @Port
   AND generation = @Generation
$q$),

('GatewaysQueryKey', $q$
SELECT address    AS "Address",
       proxy_port AS "ProxyPort",
       generation AS "Generation"
  FROM grinder_cluster_member
 WHERE deployment_id = @DeploymentId
   AND status = @Status
   AND proxy_port > 0
$q$),

('DeleteMembershipTableEntriesKey', $q$
DELETE FROM grinder_cluster_version
 WHERE deployment_id = @DeploymentId
$q$),

-- Bulk form (used when the per-row form below is absent): forget dead silos silent since the cutoff.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM grinder_cluster_member
 WHERE deployment_id = @DeploymentId
   AND status = 6
   AND i_am_alive_time < @IAmAliveTime
$q$),

-- Per-row form: the provider picked a dead row from a read and passes the values it saw; delete it
-- only if nobody changed it since (a stale read must not delete a row that was updated meanwhile).
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM grinder_cluster_member
 WHERE deployment_id = @DeploymentId
   AND address = @Address
   AND port = @Port
   AND generation = @Generation
   AND status = 6
   AND start_time = @StartTime
   AND i_am_alive_time = @IAmAliveTime
   AND suspect_times IS NOT DISTINCT FROM @SuspectTimes
$q$);
