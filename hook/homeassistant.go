package hook

import "slices"

// MobileAppCommands are the webhook commands a Home Assistant mobile_app registration carries
// out: the outer "type" of a message must be one of them, or Home Assistant logs "Received
// invalid webhook … of type" and answers 200 while doing nothing. The list is the registry of
// homeassistant/components/mobile_app/webhook.py (WEBHOOK_COMMANDS), read in December 2026.
var MobileAppCommands = []string{
	"call_service", "fire_event", "conversation_process", "stream_camera", "render_template",
	"update_location", "update_registration", "enable_encryption", "register_sensor",
	"update_sensor_states", "get_zones", "get_config", "scan_tag",
	"mobile_app_live_activity_token", "mobile_app_live_activity_dismissed",
}

// IsMobileAppCommand reports whether Home Assistant's mobile_app knows the command.
func IsMobileAppCommand(command string) bool { return slices.Contains(MobileAppCommands, command) }

// HomeAssistantEvent is the event type Hooktray fires in Home Assistant for a webhook that is not
// a mobile_app command.
const HomeAssistantEvent = "hooktray_webhook"
