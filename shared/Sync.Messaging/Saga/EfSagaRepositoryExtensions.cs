using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;
using Sync.Messaging.Saga;

namespace Microsoft.Extensions.Hosting;

public static class EfSagaRepositoryExtensions
{
    /// <summary>Persists the saga in <typeparamref name="TDbContext"/> (scoped, registered by the caller).</summary>
    public static ISagaRegistrationConfigurator<TSaga> PostgresRepository<TSaga, TDbContext>(this ISagaRegistrationConfigurator<TSaga> configurator)
        where TSaga : class, ISaga
        where TDbContext : DbContext
    {
        configurator.Repository(repository => repository
            .RegisterSagaRepository<TSaga, TDbContext, SagaConsumeContextFactory<TDbContext, TSaga>, EfSagaRepositoryContextFactory<TDbContext, TSaga>>());
        return configurator;
    }
}
