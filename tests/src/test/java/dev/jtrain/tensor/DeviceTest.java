package dev.jtrain.tensor;

import dev.jtrain.backend.Backends;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceTest {
    @Test
    void parsesKnownDevices() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(Device.EMU, Device.parse("EMU"));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(3), Device.parse("cuda:3"));
        assertEquals("cuda:3", Device.cuda(3).toString());
    }

    @Test
    void unknownDeviceNamesTheText() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse("tpu"));
        assertTrue(e.getMessage().contains("'tpu'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Device.parse("cuda:x"));
        assertThrows(IllegalArgumentException.class, () -> Device.parse("cuda:-1"));
    }

    @Test
    void transferToSameDeviceIsFreeAndHostArraysNeedCpu() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        long before = Backends.cpu().transferStats().count(TransferStats.Direction.HOST_TO_DEVICE);
        assertTrue(t.to(Device.CPU) == t);
        assertEquals(before, Backends.cpu().transferStats().count(TransferStats.Direction.HOST_TO_DEVICE));
        assertEquals(4f, t.reshape(4).floats()[3]);
        assertThrows(IllegalArgumentException.class, () -> t.reshape(3));
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[3], 2, 2));
    }
}
