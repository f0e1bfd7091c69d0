package snapsim.conformance;

/** The src -> agg record type of the "types-changed" job variant: another class, another layout. */
public class EventV2 {
    public int split;
    public long value;
    public long key;
    public long id;

    public EventV2() {}

    public EventV2(long id, long key, long value) {
        this.id = id;
        this.key = key;
        this.value = value;
        this.split = Gen.splitOf(id);
    }
}
