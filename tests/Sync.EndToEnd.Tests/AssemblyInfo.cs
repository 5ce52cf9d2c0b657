// Every test starts real processes against one PostgreSQL and one RabbitMQ on a 2-core machine.
// Each has its own databases and virtual host, and most of a failure test is waiting (redelivery
// intervals, outages, timeouts), so four run side by side (with two, 121 tests took 24 min 48 s, most
// of it waiting); those that stop, restart or block the shared servers are in
// ExclusiveInfrastructure, which runs alone after the rest.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
[assembly: TestCollectionOrderer("Sync.EndToEnd.Tests.Infrastructure.LongestFirstCollectionOrderer", "Sync.EndToEnd.Tests")]
