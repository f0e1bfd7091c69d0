package snapsim.conformance;

/** The record type on the src -> agg edge (a Flink POJO). */
public class Event {
    public long id;
    public long key;
    public long value;

    public Event() {}

    public Event(long id, long key, long value) {
        this.id = id;
        this.key = key;
        this.value = value;
    }
}
