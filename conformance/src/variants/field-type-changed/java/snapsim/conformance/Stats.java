package snapsim.conformance;

/** Job variant "incompatible": a field's type changes (sum: long -> String). Flink must refuse it. */
public class Stats {
    public long count;
    public String sum = "0";
    public long xor;

    public Stats() {}

    public void add(long value, long sumMult) {
        count += 1;
        sum = String.valueOf(Long.parseLong(sum) + sumMult * value);
        xor ^= value;
    }

    public void json(StringBuilder b) {
        b.append("\"count\":").append(count).append(",\"sum\":").append(sum).append(",\"xor\":").append(xor);
    }

    public static String layout() { return "count,sum:String,xor"; }
}
