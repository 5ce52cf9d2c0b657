using MassTransit;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// An activity that works on the run alone, whatever event brought it there: the state machine's
/// plumbing (every event type, faults, probing) once, the work in <see cref="ExecuteAsync"/>.
/// </summary>
internal abstract class RunActivity(string name) : IStateMachineActivity<SyncRunState>
{
    protected abstract Task ExecuteAsync(BehaviorContext<SyncRunState> context);

    public async Task Execute(BehaviorContext<SyncRunState> context, IBehavior<SyncRunState> next)
    {
        await ExecuteAsync(context);
        await next.Execute(context);
    }

    public async Task Execute<T>(BehaviorContext<SyncRunState, T> context, IBehavior<SyncRunState, T> next)
        where T : class
    {
        await ExecuteAsync(context);
        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, TException> context, IBehavior<SyncRunState> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<T, TException>(BehaviorExceptionContext<SyncRunState, T, TException> context, IBehavior<SyncRunState, T> next)
        where T : class
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope(name);

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
