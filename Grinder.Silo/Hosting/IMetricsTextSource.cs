namespace Grinder.Silo.Hosting;

/// <summary>Renders the Prometheus text exposition (format 0.0.4) served at <c>/metrics</c>.</summary>
public interface IMetricsTextSource
{
    /// <summary>The full exposition text, as <c>curl /metrics</c> would get it.</summary>
    Task<string> RenderAsync(CancellationToken cancellationToken);
}
