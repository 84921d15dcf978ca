/* fleet.h - simulated devices: real wsx clients on a loop and thread of
 * their own, each connecting to the dashboard's /device WebSocket and
 * sending telemetry samples (telemetry.h) several times a second. Vehicles
 * drive around a 1000 x 1000 m yard; now and then one overheats and raises
 * its alarm. A device that loses its connection reconnects after a second. */
#ifndef DASHBOARD_FLEET_H
#define DASHBOARD_FLEET_H

typedef struct fleet fleet;

/* Start count devices (1..TELEMETRY_MAX_DEVICES), each sending hz samples
 * a second (1..20), to url (ws://host:port/device). NULL when out of
 * memory or threads. */
fleet *fleet_start(const char *url, unsigned count, unsigned hz);
/* Close every device (1001) and join the thread. */
void fleet_stop(fleet *f);

#endif
