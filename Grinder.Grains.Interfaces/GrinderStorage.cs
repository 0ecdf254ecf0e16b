namespace Grinder.Grains.Interfaces;

/// <summary>Names of the grain-state storage providers the grains persist to.</summary>
public static class GrinderStorage
{
    /// <summary>The provider holding per-account cursors, counters and metric snapshots.</summary>
    public const string Name = "fills";
}
