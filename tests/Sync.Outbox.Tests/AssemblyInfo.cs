// Each test starts real buses against one PostgreSQL and one RabbitMQ on a 2-core machine, and
// MassTransit keeps one process-wide log context: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
