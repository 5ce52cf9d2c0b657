-- Run once by the postgres image, as POSTGRES_USER (sync), when its data volume is empty
-- (deploy/postgres/Dockerfile copies it into /docker-entrypoint-initdb.d).
-- The control database holds the Coordinator's bookkeeping (its migrations run at start-up);
-- the two demo databases are where jobs/orders.yml reads and writes. The orders tables themselves
-- are not created here: `./run containers demo` (scripts/containers.sh) creates them.
CREATE DATABASE sync_control;
CREATE DATABASE sync_demo_source;
CREATE DATABASE sync_demo_destination;
