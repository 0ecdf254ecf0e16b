namespace Grinder.Grains;

/// <summary>Names of the grain storage providers the grains use; both hosting modes register them.</summary>
public static class GrinderStorage
{
    /// <summary>The provider that holds account cursors, counters and metric snapshots.</summary>
    public const string Name = "fills";
}
