using System.Reflection;
using Grinder.Grains.Logging;
using Microsoft.Extensions.Logging;

namespace Grinder.Tests.Logging;

/// <summary>
/// Log events are what operators grep for: every one has a name and an id from <see cref="LogEvents"/>, one id means one
/// event and one event one id, and no area's id lies in another's range.
/// </summary>
public sealed class LogEventTests
{
    private static readonly Assembly[] ServiceAssemblies =
    [
        typeof(LogEvents).Assembly,
        typeof(Grinder.Silo.Http.FillPageToken).Assembly,
    ];

    [Fact]
    public void Every_log_event_of_the_service_has_a_registered_id_and_a_name_and_ids_and_names_pair_one_to_one()
    {
        var events = LoggerMessages(ServiceAssemblies).ToList();
        Assert.True(events.Count >= 40, $"only {events.Count} [LoggerMessage] methods found: the scan is not seeing the service");

        var registered = typeof(LogEvents).GetNestedTypes()
            .SelectMany(area => area.GetFields(BindingFlags.Public | BindingFlags.Static).Select(field => (Area: area.Name, Id: (int)field.GetRawConstantValue()!)))
            .ToList();
        Assert.Equal(registered.Count, registered.Select(entry => entry.Id).Distinct().Count());

        foreach (var (method, attribute) in events)
        {
            var where = $"{method.DeclaringType!.FullName}.{method.Name}";
            Assert.False(string.IsNullOrEmpty(attribute.EventName), $"{where} has no event name");
            Assert.Contains(registered, entry => entry.Id == attribute.EventId);
        }

        foreach (var byId in events.GroupBy(e => e.Attribute.EventId))
        {
            Assert.Single(byId.Select(e => e.Attribute.EventName).Distinct());
        }

        foreach (var byName in events.GroupBy(e => e.Attribute.EventName))
        {
            Assert.Single(byName.Select(e => e.Attribute.EventId).Distinct());
        }
    }

    [Fact]
    public void Each_area_keeps_its_ids_in_one_block_of_a_hundred_apart_from_the_others()
    {
        var blocks = typeof(LogEvents).GetNestedTypes()
            .Select(area => (area.Name, Blocks: area.GetFields().Select(field => (int)field.GetRawConstantValue()! / 100).Distinct().ToList()))
            .ToList();
        Assert.All(blocks, area => Assert.True(area.Blocks.Count <= 2, $"{area.Name} spreads over blocks {string.Join(", ", area.Blocks)}"));
        var all = blocks.SelectMany(area => area.Blocks.Select(block => (area.Name, block))).ToList();
        Assert.Equal(all.Count, all.Select(entry => entry.block).Distinct().Count());
    }

    private static IEnumerable<(MethodInfo Method, LoggerMessageAttribute Attribute)> LoggerMessages(IEnumerable<Assembly> assemblies) =>
        from assembly in assemblies
        from type in assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
        where attribute is not null
        select (method, attribute);
}
