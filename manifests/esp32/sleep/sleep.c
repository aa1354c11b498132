/*
 * The native half of manifests/esp32/sleep/sleep.js: 32 words in RTC slow memory
 * (RTC_NOINIT_ATTR: kept through deep sleep and software resets, never cleared at start-up)
 * and a timer wake-up from deep sleep (ESP-IDF esp_sleep.h). An index outside 0 to 31 and a
 * sleep time of 0 or less are RangeErrors, as in Moddable's nRF52 sleep module.
 */

#include "xsmc.h"
#include "xsHost.h"
#include "esp_attr.h"
#include "esp_sleep.h"

#define kRetainedWords 32

static RTC_NOINIT_ATTR uint32_t gRetained[kRetainedWords];

static int retainedIndex(xsMachine *the)
{
	int index = xsmcToInteger(xsArg(0));
	if ((index < 0) || (index >= kRetainedWords))
		xsRangeError("invalid index");
	return index;
}

void xs_mqtt_sleep_get_retained_value(xsMachine *the)
{
	xsmcSetInteger(xsResult, (int32_t)gRetained[retainedIndex(the)]);
}

void xs_mqtt_sleep_set_retained_value(xsMachine *the)
{
	int index = retainedIndex(the);
	gRetained[index] = (uint32_t)xsmcToInteger(xsArg(1));
}

void xs_mqtt_sleep_deep(xsMachine *the)
{
	int ms = xsmcToInteger(xsArg(0));
	if (ms <= 0)
		xsRangeError("invalid sleep time");
	esp_sleep_enable_timer_wakeup((uint64_t)ms * 1000);
	esp_deep_sleep_start();
}
