-- Query catalogue of the Orleans ADO.NET providers.
--
-- Microsoft.Orleans.Clustering.AdoNet and Microsoft.Orleans.Persistence.AdoNet ship no SQL. At start
-- each provider runs "SELECT QueryKey, QueryText FROM OrleansQuery" and afterwards executes only the
-- statements it found there, binding its parameters by name (@DeploymentId, @GrainIdHash, ...). The
-- table and column names are therefore fixed by the providers (unquoted, so PostgreSQL folds them to
-- lower case and the providers' unquoted query finds them). The statements themselves are ours and
-- are inserted by the later migrations.
CREATE TABLE OrleansQuery (
    QueryKey  text PRIMARY KEY,
    QueryText text NOT NULL
);

COMMENT ON TABLE OrleansQuery IS
    'Statements the Orleans ADO.NET providers execute, by query key; written by Grinder schema migrations.';
