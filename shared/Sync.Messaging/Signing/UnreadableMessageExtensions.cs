using MassTransit.Middleware;
using Microsoft.Extensions.DependencyInjection;
using Sync.Messaging.Signing;

namespace MassTransit;

public static class UnreadableMessageExtensions
{
    /// <summary>
    /// When a message of this endpoint cannot be deserialized, publishes the failure event that
    /// <paramref name="failed"/> makes of its run headers and the reason (null: nothing to report),
    /// then faults and moves it to the error queue as MassTransit's default error pipe does.
    /// </summary>
    public static void ReportUnreadableMessages<TFailed>(
        this IReceiveEndpointConfigurator endpoint,
        IRegistrationContext context,
        Func<RunHeaders, string, TFailed?> failed)
        where TFailed : class
    {
        var report = new UnreadableMessageFilter<TFailed>(context.GetRequiredService<JobSigner>(), failed);
        // Configuring the error pipe replaces MassTransit's default (ReceivePipeConfiguration.CreateErrorPipe), so it is restated.
        endpoint.ConfigureError(error =>
        {
            error.UseFilter(report);
            error.UseFilter(new GenerateFaultFilter());
            error.UseFilter(new ErrorTransportFilter());
        });
    }
}
