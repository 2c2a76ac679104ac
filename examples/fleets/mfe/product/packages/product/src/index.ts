// Async boundary so shared singletons are negotiated before React loads.
import('./bootstrap');
